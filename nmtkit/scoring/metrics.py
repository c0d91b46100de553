"""BLEU, chrF(++) and TER through sacrebleu's Python API, with its signatures and statistical tests.

Nothing here recomputes a metric: sacrebleu's `BLEU`/`CHRF`/`TER` objects compute scores,
bootstrap confidence intervals (`corpus_score(n_bootstrap=...)`) and paired tests
(`significance.PairedTest`), so numbers and signatures equal what the `sacrebleu` command prints
for the same inputs and options. Options follow the sacrebleu command's defaults; `tokenize`
applies to BLEU only (chrF works on characters, TER has its own tercom tokenizer), and
`lowercase` makes BLEU and chrF case-insensitive (sacrebleu `-lc --chrf-lowercase`); TER is
case-insensitive by default, as in sacrebleu.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence

from sacrebleu.metrics import BLEU, CHRF, METRICS, TER
from sacrebleu.metrics.base import Metric

from nmtkit.errors import UsageError
from nmtkit.scoring.config import MetricsConfig

#: Metric names accepted by --metrics, taken from sacrebleu (bleu, chrf, ter).
METRIC_NAMES: tuple[str, ...] = tuple(name.lower() for name in METRICS)
#: BLEU tokenizers, taken from sacrebleu (13a, intl, zh, char, none, ja-mecab, flores101, ...).
TOKENIZERS: tuple[str, ...] = tuple(BLEU.TOKENIZERS)
#: p-values at or below this are marked significant (sacrebleu's "*" rule).
SIGNIFICANCE_LEVEL = 0.05


@dataclasses.dataclass(frozen=True, kw_only=True)
class MetricScore:
    """One metric's result for one system, with everything the sacrebleu command prints."""

    name: str  # sacrebleu's score name: BLEU, chrF2, chrF2++, TER
    score: float
    signature: str
    verbose: str = ""  # BLEU's n-gram precisions, brevity penalty and lengths
    mean: float | None = None  # bootstrap estimate of the true mean
    ci: float | None = None  # half-width of the 95% confidence interval
    p_value: float | None = None  # paired test against the baseline
    delta: float | None = None  # score - baseline score

    @property
    def significant(self) -> bool | None:
        """p <= 0.05 and a real difference (identical scores make sacrebleu's test degenerate:
        every resampled delta is 0, none exceeds the observed 0, so it reports p = 1/(n+1))."""
        if self.p_value is None:
            return None
        return self.p_value <= SIGNIFICANCE_LEVEL and self.delta != 0.0


@dataclasses.dataclass(frozen=True, kw_only=True)
class SystemScores:
    name: str
    scores: list[MetricScore]
    baseline: bool = False


def parse_metric_names(spec: str) -> list[str]:
    """'bleu,chrf' → ['bleu', 'chrf']; unknown names are a UsageError listing the valid ones."""
    names = [part.strip().lower() for part in spec.split(",") if part.strip()]
    unknown = [name for name in names if name not in METRIC_NAMES]
    if unknown or not names:
        raise UsageError(
            f"unknown metric {', '.join(map(repr, unknown)) or repr(spec)}",
            fix=f"choose from {', '.join(METRIC_NAMES)}",
        )
    return list(dict.fromkeys(names))


def check_options(cfg: MetricsConfig) -> list[str]:
    """Validate option values before any file is read; returns the metric names."""
    names = parse_metric_names(cfg.metrics)
    if "bleu" in names and cfg.tokenize not in TOKENIZERS:
        raise UsageError(
            f"unknown tokenizer {cfg.tokenize!r}", fix=f"choose from {', '.join(TOKENIZERS)}"
        )
    if cfg.width < 0 or cfg.confidence_n < 2 or cfg.paired_n < 0 or cfg.chrf_word_order < 0:
        raise UsageError(
            "--width, --paired-n and --chrf-word-order must be >= 0, --confidence-n >= 2"
        )
    return names


def build_metrics(
    cfg: MetricsConfig, refs: Sequence[Sequence[str]], *, sentence: bool = False
) -> dict[str, Metric]:
    """sacrebleu metric objects with the references cached (tokenized once for all systems).

    `sentence=True` enables BLEU's effective order, as `sacrebleu --sentence-level` does.
    """
    metrics: dict[str, Metric] = {}
    for name in check_options(cfg):
        if name == "bleu":
            metrics[name] = _build_bleu(cfg, refs, sentence=sentence)
        elif name == "chrf":
            metrics[name] = CHRF(
                word_order=cfg.chrf_word_order, lowercase=cfg.lowercase, references=refs
            )
        else:
            metrics[name] = TER(references=refs)
    return metrics


def _build_bleu(cfg: MetricsConfig, refs: Sequence[Sequence[str]], *, sentence: bool) -> BLEU:
    try:
        return BLEU(
            tokenize=cfg.tokenize,
            lowercase=cfg.lowercase,
            effective_order=sentence,
            references=refs,
        )
    except (ImportError, RuntimeError, OSError, AssertionError) as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise UsageError(
            f"tokenizer {cfg.tokenize!r} is not available here: {reason}",
            fix="install its extra (e.g. pip install 'sacrebleu[ja]') or pick another tokenizer",
        ) from None


def corpus_scores(
    metrics: dict[str, Metric], hyps: Sequence[str], *, n_bootstrap: int = 1
) -> list[MetricScore]:
    """Corpus-level scores of one system (with bootstrap CIs when n_bootstrap > 1)."""
    results = []
    for metric in metrics.values():
        score = metric.corpus_score(hyps, None, n_bootstrap=n_bootstrap)
        has_ci = n_bootstrap > 1
        results.append(
            MetricScore(
                name=score.name,
                score=score.score,
                signature=metric.get_signature().format(),
                verbose=score._verbose,
                mean=float(score._mean) if has_ci else None,
                ci=float(score._ci) if has_ci else None,
            )
        )
    return results


def paired_test(
    metrics: dict[str, Metric],
    systems: Sequence[tuple[str, Sequence[str]]],
    cfg: MetricsConfig,
) -> list[SystemScores]:
    """sacrebleu's paired bootstrap / approximate randomization test; systems[0] is the baseline.

    Every other system is compared with the baseline; with `cfg.confidence`, the AR test also
    reports bootstrap CIs (bootstrap always does).
    """
    from sacrebleu.significance import PairedTest

    n_ar_confidence = cfg.confidence_n if cfg.confidence and cfg.paired == "ar" else -1
    test = PairedTest(
        [(name, list(hyps)) for name, hyps in systems],
        metrics,
        references=None,
        test_type=cfg.paired,
        n_samples=cfg.paired_n,
        n_ar_confidence=n_ar_confidence,
    )
    signatures, table = test()
    metric_names = [key for key in table if key != "System"]
    out = []
    for i, (name, _) in enumerate(systems):
        scores = []
        for metric_name in metric_names:
            result = table[metric_name][i]
            base = table[metric_name][0].score
            scores.append(
                MetricScore(
                    name=metric_name,
                    score=float(result.score),
                    signature=signatures[metric_name].format(),
                    mean=None if result.mean is None else float(result.mean),
                    ci=None if result.ci is None else float(result.ci),
                    p_value=None if result.p_value is None else float(result.p_value),
                    delta=None if i == 0 else float(result.score - base),
                )
            )
        out.append(SystemScores(name=name, scores=scores, baseline=i == 0))
    return out


def sentence_scores(
    metrics: dict[str, Metric], hyps: Sequence[str], refs: Sequence[Sequence[str]]
) -> tuple[list[str], list[list[float]]]:
    """(score names, one row of per-metric scores per hypothesis), as `sacrebleu -sl` computes
    them. hyps must be non-empty (the names come from the first row's scores)."""
    names: list[str] = []
    rows = []
    for i, hyp in enumerate(hyps):
        scores = [
            metric.sentence_score(hyp, [ref[i] for ref in refs]) for metric in metrics.values()
        ]
        names = names or [score.name for score in scores]
        rows.append([score.score for score in scores])
    return names, rows


def seed_label() -> str:
    """The RNG seed sacrebleu's tests use (SACREBLEU_SEED, default 12345), as it prints it."""
    return os.environ.get("SACREBLEU_SEED", "12345").lower()


def paired_samples(cfg: MetricsConfig) -> int:
    """Resamples (bs) or trials (ar) the paired test runs: --paired-n, else sacrebleu's default."""
    from sacrebleu.significance import PairedTest

    return cfg.paired_n or PairedTest._DEFAULT_SAMPLES[cfg.paired]
