"""Options of `nmtkit score`, declared once (flags, help and defaults are read from these fields).

Kept free of heavy imports so building the CLI does not load sacrebleu or torch.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

from nmtkit.config import ConfigBase, option


@dataclasses.dataclass(frozen=True, kw_only=True)
class MetricsConfig(ConfigBase):
    """Metric mode; defaults are the sacrebleu command's, so equal options give equal output."""

    metrics: str = option("bleu,chrf,ter", help="Comma-separated metrics: bleu, chrf, ter.")
    tokenize: str = option(
        "13a",
        help="BLEU tokenizer as in sacrebleu: 13a, intl, zh, char, none, ja-mecab, flores101...",
    )
    lowercase: bool = option(False, help="Case-insensitive BLEU and chrF (TER always is).")
    chrf_word_order: int = option(0, help="chrF word n-gram order; 2 gives chrF++.")
    width: int = option(1, help="Decimals printed (sacrebleu --width).")
    confidence: bool = option(False, help="Bootstrap 95% confidence intervals.")
    confidence_n: int = option(1000, help="Bootstrap resamples for --confidence.")
    paired: Literal["bs", "ar"] = option(
        "bs", help="Paired test used when several systems are given: bs or ar."
    )
    paired_n: int = option(0, help="Resamples (bs) or trials (ar); 0 = sacrebleu's 1000/10000.")


@dataclasses.dataclass(frozen=True, kw_only=True)
class ModelScoreConfig(ConfigBase):
    """Model mode: force-decoding sentence pairs with a checkpoint."""

    batch_size: int = option(64, help="Sentence pairs per forward pass.")
    precision: Literal["fp32", "bf16", "fp16"] = option(
        "fp32", help="Compute precision (log-softmax always in float32)."
    )
    device: str = option("auto", help="auto (cuda if available, else cpu), cpu, cuda, cuda:N.")
