"""`nmtkit preprocess` options, apart from the pipeline so the CLI can build flags without torch."""

from __future__ import annotations

import dataclasses
from typing import Literal

from nmtkit.config import ConfigBase, option


@dataclasses.dataclass(frozen=True, kw_only=True)
class PreprocessConfig(ConfigBase):
    """Everything `nmtkit preprocess` accepts; its flags are generated from these fields
    (nmtkit/cli/options.py), so an option is added here and nowhere else."""

    source_lang: str = option(
        "", help="Source language suffix (files PREFIX.SRC).", short="s", required=True
    )
    target_lang: str = option(
        "", help="Target language suffix (files PREFIX.TGT).", short="t", required=True
    )
    train: str = option(
        "", help="Training corpus prefix: PREFIX.SRC and PREFIX.TGT, plain or .gz.", required=True
    )
    valid: str | None = option(None, help="Validation corpus prefix (kept unfiltered).")
    test: list[str] = option(
        [], help="Test corpus prefix; repeatable; split named by basename."
    )
    out: str = option("", help="Output data directory.", short="o", required=True)
    force: bool = option(False, help="Replace a non-empty --out directory.")
    vocab_size: int = option(8000, help="Sentencepiece vocabulary size (per side if separate).")
    model_type: Literal["unigram", "bpe"] = option("unigram", help="Sentencepiece model type.")
    joint: bool = option(
        True, help="One vocabulary for both languages (else one per side).", negation="separate"
    )
    character_coverage: float = option(1.0, help="Share of characters the vocabulary covers.")
    input_sentence_size: int = option(
        1_000_000, help="Sentences sampled (shuffled) to train sentencepiece (0 = all)."
    )
    input_char_limit: int = option(
        20_000_000, help="Also cap that sample at this many characters: sentencepiece's trainer "
        "memory grows with the sampled characters, so this bounds it (0 = no cap)."
    )
    spm_model: str | None = option(
        None,
        help="Reuse a tokenizer: a data dir with tokenizer.json, or a joint sentencepiece .model"
        " trained anywhere (its pad/unk/bos/eos are moved to ids 0-3, a missing one added).",
    )
    max_len: int = option(
        250, help="Drop train pairs with a side longer than this (pieces; 0 = off)."
    )
    max_len_ratio: float = option(
        9.0, help="Drop train pairs whose length ratio exceeds this (0 = off)."
    )
    workers: int = option(1, help="Processes that encode in parallel.")
    skip_invalid: bool = option(
        False, help="Drop train pairs with invalid UTF-8 (valid/test: replace bytes with U+FFFD)."
    )
    chunk_size: int = option(10_000, help="Line pairs per encoding chunk.", hidden=True)
    shard_size: int = option(
        1_000_000, help="Pairs per shard file of a split; a bigger split is written as several "
        "shards, and preprocess holds at most one shard in memory."
    )
    append: bool = option(
        False, help="Add --train as new train shards of the existing --out directory, encoded "
        "with its tokenizer and filters; the manifest is replaced last (atomic)."
    )
