"""Options of `nmtkit score`, declared once (flags, help and defaults are read from these fields).

Kept free of heavy imports so building the CLI does not load sacrebleu or torch.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Literal

from nmtkit.config import ConfigBase, option
from nmtkit.errors import UsageError


@dataclasses.dataclass(frozen=True, kw_only=True)
class MetricsConfig(ConfigBase):
    """Metric mode; defaults are the sacrebleu command's, so equal options give equal output."""

    metrics: str = option(
        "bleu,chrf,ter", help="Comma-separated metrics: bleu, chrf, ter.", short="m"
    )
    tokenize: str = option(
        "13a",
        help="BLEU tokenizer as in sacrebleu: 13a, intl, zh, char, none, ja-mecab, flores101...",
        short="t",
    )
    lowercase: bool = option(False, help="Case-insensitive BLEU and chrF (TER always is).")
    chrf_word_order: int = option(0, help="chrF word n-gram order; 2 gives chrF++.")
    width: int = option(1, help="Decimals printed (sacrebleu --width).", short="w")
    confidence: bool = option(False, help="Bootstrap 95% confidence intervals.")
    confidence_n: int = option(1000, help="Bootstrap resamples for --confidence.")
    paired: Literal["bs", "ar"] = option(
        "bs", help="Paired test used when several systems are given: bs or ar."
    )
    paired_n: int = option(0, help="Resamples (bs) or trials (ar); 0 = sacrebleu's 1000/10000.")


@dataclasses.dataclass(frozen=True, kw_only=True)
class MetricsFilesConfig(ConfigBase):
    """Metric mode's inputs and report (hypotheses may also be given as arguments)."""

    ref: list[str] = option([], help="Reference file; repeat for several references.", short="r")
    hyp: list[str] = option(
        [], help="Hypothesis file; repeat to compare systems (first = baseline)."
    )
    sentence: bool = option(False, help="Per-sentence scores, tab-separated, in input order.")
    paired_bs: bool = option(
        False, help="Paired bootstrap resampling test (default with 2+ systems)."
    )
    paired_ar: bool = option(False, help="Paired approximate randomization test.")

    def paired(self) -> Literal["bs", "ar"]:
        if self.paired_bs and self.paired_ar:
            raise UsageError("--paired-bs and --paired-ar exclude each other", fix="pick one")
        return "ar" if self.paired_ar else "bs"


@dataclasses.dataclass(frozen=True, kw_only=True)
class ModelFilesConfig(ConfigBase):
    """Model mode's inputs: naming any of them selects model mode."""

    checkpoint: str | None = option(
        None, help="Score --src/--tgt pairs with this model.", short="c"
    )
    src: str | None = option(None, help="Source sentences (raw text).")
    tgt: str | None = option(None, help="Target sentences (raw text).")

    def given(self) -> bool:
        """True if any model-mode input was named (then metric options are refused)."""
        return any(v is not None for v in (self.checkpoint, self.src, self.tgt))

    def paths(self) -> tuple[Path, Path, Path]:
        """(checkpoint, src, tgt), or a UsageError naming what is missing."""
        named = (("-c", self.checkpoint), ("--src", self.src), ("--tgt", self.tgt))
        missing = [flag for flag, v in named if not v]
        if missing:
            raise UsageError(
                f"model scoring needs {', '.join(missing)}",
                fix="nmtkit score -c CHECKPOINT --src SRC --tgt TGT",
            )
        return Path(self.checkpoint or ""), Path(self.src or ""), Path(self.tgt or "")


@dataclasses.dataclass(frozen=True, kw_only=True)
class ModelScoreConfig(ConfigBase):
    """Model mode: force-decoding sentence pairs with a checkpoint."""

    batch_size: int = option(64, help="Sentence pairs per forward pass.")
    precision: Literal["auto", "fp32", "bf16", "fp16"] = option(
        "fp32",
        help="Compute precision (log-softmax always in float32); auto = bf16 where the device "
        "runs it natively. fp32 by default: scores are compared across models and runs.",
    )
    device: str = option("auto", help="auto (cuda if available, else cpu), cpu, cuda, cuda:N.")


@dataclasses.dataclass(frozen=True, kw_only=True)
class ScoreOutputConfig(ConfigBase):
    """How either mode prints its results."""

    json: bool = option(False, help="Machine-readable JSON on stdout.")
