"""TranslateConfig: pipeline options (I/O, batching, precision, attention outputs), declared once.

No torch import here: flags and help are built from these fields before any model is loaded.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

from nmtkit.config import ConfigBase, option
from nmtkit.errors import UsageError

Precision = Literal["auto", "fp32", "bf16", "fp16"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class TranslateFilesConfig(ConfigBase):
    """What `nmtkit translate` reads and writes."""

    checkpoint: list[str] = option(
        [], help="Checkpoint (.safetensors); repeat for an ensemble.", short="c", required=True
    )
    input: str | None = option(
        None, help="Read source lines from this file instead of stdin.", short="i"
    )
    output: str | None = option(
        None, help="Write translations to this file (atomically).", short="o"
    )


@dataclasses.dataclass(frozen=True, kw_only=True)
class TranslateConfig(ConfigBase):
    """How text flows through translation; search options live in SearchConfig."""

    batch_size: int = option(64, help="Sentences per batch.")
    max_tokens: int = option(0, help="Also cap a batch at this many padded source tokens (0: off).")
    precision: Precision = option(
        "auto", help="bf16/fp16 autocast, or fp32; auto = bf16 where the hardware runs it natively."
    )
    device: str = option("auto", help="auto (cuda when available, else cpu), cpu, cuda, cuda:N.")
    threads: int = option(0, help="CPU threads for torch (0: torch's default).")
    parallel_batches: int = option(
        0,
        help="CPU: batches decoded at once, each on one thread (0: one per torch thread; 1: one "
        "batch at a time on every thread). Decoder matrices are small, so whole batches side by "
        "side keep the cores busier than threads splitting each operation.",
    )
    max_source_len: int = option(
        250, help="Longer source lines are truncated to this many pieces, with a warning."
    )
    chunk_size: int = option(
        4000, help="Lines read and translated at a time (streaming; a terminal uses 1)."
    )
    strict: bool = option(False, help="Invalid UTF-8 input is an error instead of a warning.")
    alignment: bool = option(
        False, help="Append a tab and a Pharaoh alignment (srcidx-tgtidx) from attention."
    )
    alignment_words: bool = option(
        False, help="With --alignment, index words instead of sentencepiece pieces."
    )
    attention_json: str | None = option(
        None, help="Write soft attention matrices with source/target pieces to this JSON file."
    )
    attention_heads: bool = option(
        False,
        help="With --attention-json, also write every decoder layer's cross-attention per head "
        "(Transformer decoders; recomputed by one teacher-forced pass over the best output).",
    )
    plot_attention: str | None = option(
        None, help="Write one attention heatmap PNG per sentence into this directory."
    )
    alignment_layer: int | None = option(
        None,
        help="Transformer decoders: the layer whose cross-attention (mean over heads) feeds "
        "alignments, JSON, plots and --replace-unk; negative counts from the end (default: "
        "the checkpoint's, -2 = the last but one).",
    )
    replace_unk: bool = option(
        False, help="Replace <unk> outputs by the most attended source piece."
    )

    @property
    def needs_attention(self) -> bool:
        return bool(
            self.alignment or self.attention_json or self.plot_attention or self.replace_unk
        )

    def check(self) -> None:
        if self.batch_size < 1:
            raise UsageError(f"--batch-size must be >= 1, got {self.batch_size}")
        if self.max_tokens < 0 or self.threads < 0 or self.parallel_batches < 0:
            raise UsageError("--max-tokens, --threads and --parallel-batches must be >= 0")
        if self.max_source_len < 1 or self.chunk_size < 1:
            raise UsageError("--max-source-len and --chunk-size must be >= 1")
        if self.alignment_words and not self.alignment:
            raise UsageError("--alignment-words needs --alignment")
        if self.attention_heads and not self.attention_json:
            raise UsageError("--attention-heads needs --attention-json FILE")
