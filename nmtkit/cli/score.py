"""`nmtkit score`: sacrebleu metrics for translations, or model log-probs for sentence pairs.

Thin: flags → MetricsConfig / ModelScoreConfig → nmtkit.scoring; defaults and help come from the
configs' fields, so each option is declared once.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Any

import typer

from nmtkit.cli.console import stdout_console
from nmtkit.config import ConfigBase
from nmtkit.errors import UsageError
from nmtkit.scoring.config import MetricsConfig, ModelScoreConfig
from nmtkit.scoring.run import RunRequest, run_metrics

_METRICS_PANEL = "Metrics (sacrebleu)"
_TEST_PANEL = "Confidence and significance"
_MODEL_PANEL = "Model scoring (-c)"


def _opt(cls: type[ConfigBase], name: str, *decls: str, panel: str, **kw: Any) -> Any:
    """A typer option whose default and help are the config field's (declared once there)."""
    field = next(f for f in dataclasses.fields(cls) if f.name == name)
    return typer.Option(
        field.default, *decls, help=field.metadata["help"], rich_help_panel=panel, **kw
    )


def register(app: typer.Typer) -> None:
    @app.command("score", no_args_is_help=False)
    def score(
        hyp_files: list[Path] = typer.Argument(
            None, help="Hypothesis files, one system each (stdin when none).", show_default=False
        ),
        ref: list[Path] = typer.Option(
            None,
            "--ref",
            "-r",
            help="Reference file; repeat for several references.",
            rich_help_panel=_METRICS_PANEL,
            show_default=False,
        ),
        hyp: list[Path] = typer.Option(
            None,
            "--hyp",
            help="Hypothesis file; repeat to compare systems (first = baseline).",
            rich_help_panel=_METRICS_PANEL,
            show_default=False,
        ),
        metrics: str = _opt(MetricsConfig, "metrics", "--metrics", "-m", panel=_METRICS_PANEL),
        tokenize: str = _opt(MetricsConfig, "tokenize", "--tokenize", "-t", panel=_METRICS_PANEL),
        lowercase: bool = _opt(MetricsConfig, "lowercase", "--lowercase", panel=_METRICS_PANEL),
        chrf_word_order: int = _opt(
            MetricsConfig, "chrf_word_order", "--chrf-word-order", panel=_METRICS_PANEL
        ),
        width: int = _opt(MetricsConfig, "width", "--width", "-w", panel=_METRICS_PANEL),
        sentence: bool = typer.Option(
            False,
            "--sentence",
            help="Per-sentence scores, tab-separated, in input order.",
            rich_help_panel=_METRICS_PANEL,
        ),
        confidence: bool = _opt(MetricsConfig, "confidence", "--confidence", panel=_TEST_PANEL),
        confidence_n: int = _opt(
            MetricsConfig, "confidence_n", "--confidence-n", panel=_TEST_PANEL
        ),
        paired_bs: bool = typer.Option(
            False,
            "--paired-bs",
            help="Paired bootstrap resampling test (default with 2+ systems).",
            rich_help_panel=_TEST_PANEL,
        ),
        paired_ar: bool = typer.Option(
            False,
            "--paired-ar",
            help="Paired approximate randomization test.",
            rich_help_panel=_TEST_PANEL,
        ),
        paired_n: int = _opt(MetricsConfig, "paired_n", "--paired-n", panel=_TEST_PANEL),
        checkpoint: Path = typer.Option(
            None,
            "--checkpoint",
            "-c",
            help="Score --src/--tgt pairs with this model.",
            rich_help_panel=_MODEL_PANEL,
            show_default=False,
        ),
        src: Path = typer.Option(
            None,
            "--src",
            help="Source sentences (raw text).",
            rich_help_panel=_MODEL_PANEL,
            show_default=False,
        ),
        tgt: Path = typer.Option(
            None,
            "--tgt",
            help="Target sentences (raw text).",
            rich_help_panel=_MODEL_PANEL,
            show_default=False,
        ),
        batch_size: int = _opt(ModelScoreConfig, "batch_size", "--batch-size", panel=_MODEL_PANEL),
        precision: str = _opt(ModelScoreConfig, "precision", "--precision", panel=_MODEL_PANEL),
        device: str = _opt(ModelScoreConfig, "device", "--device", panel=_MODEL_PANEL),
        as_json: bool = typer.Option(False, "--json", help="Machine-readable JSON on stdout."),
    ) -> None:
        """Score translations with BLEU/chrF/TER (exactly as sacrebleu), or sentence pairs with a
        model (-c CHECKPOINT --src SRC --tgt TGT: log-probs and perplexity)."""
        if checkpoint is not None or src is not None or tgt is not None:
            if ref or hyp or hyp_files or sentence or confidence or paired_bs or paired_ar:
                raise UsageError(
                    "model scoring (-c/--src/--tgt) cannot be combined with metric options "
                    "(--ref/--hyp/--sentence/--confidence/--paired-*)",
                    fix="run two separate commands",
                )
            cfg = ModelScoreConfig.from_dict(
                {"batch_size": batch_size, "precision": precision, "device": device},
                source="command line",
            )
            _score_model(checkpoint, src, tgt, cfg, as_json=as_json)
            return
        if paired_bs and paired_ar:
            raise UsageError("--paired-bs and --paired-ar exclude each other", fix="pick one")
        values = {
            "metrics": metrics,
            "tokenize": tokenize,
            "lowercase": lowercase,
            "chrf_word_order": chrf_word_order,
            "width": width,
            "confidence": confidence,
            "confidence_n": confidence_n,
            "paired": "ar" if paired_ar else "bs",
            "paired_n": paired_n,
        }
        request = RunRequest(
            refs=list(ref or []),
            hyps=[*(hyp_files or []), *(hyp or [])],
            sentence=sentence,
            paired_requested=paired_bs or paired_ar,
            as_json=as_json,
        )
        cfg = MetricsConfig.from_dict(values, source="command line")
        run_metrics(cfg, request, stdout_console())


def _score_model(
    checkpoint: Path | None,
    src: Path | None,
    tgt: Path | None,
    cfg: ModelScoreConfig,
    *,
    as_json: bool,
) -> None:
    missing = [flag for flag, v in (("-c", checkpoint), ("--src", src), ("--tgt", tgt)) if not v]
    if missing:
        raise UsageError(
            f"model scoring needs {', '.join(missing)}",
            fix="nmtkit score -c CHECKPOINT --src SRC --tgt TGT",
        )
    from nmtkit.scoring.model import run_model_scoring

    assert checkpoint is not None and src is not None and tgt is not None
    run_model_scoring(checkpoint, src, tgt, cfg, as_json=as_json, out=sys.stdout, log=sys.stderr)
