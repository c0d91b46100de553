"""`preprocess --append`: add a corpus to an existing data directory as new train shards."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from nmtkit.data.manifest import Manifest, SplitStats
from nmtkit.data.preprocess import (
    Progress,
    binarize,
    format_version,
    mapper,
    resolve_splits,
)
from nmtkit.data.preprocess_config import PreprocessConfig
from nmtkit.data.tokenizer import Tokenizer
from nmtkit.errors import UsageError
from nmtkit.io.atomic import DirLock


def append(cfg: PreprocessConfig, progress: Progress) -> Manifest:
    """--append: encode --train with the directory's tokenizer and filters into new train shards,
    then replace the manifest (atomic). Until then the directory reads as before; shards of an
    interrupted append are not listed, so they are ignored and overwritten by the next one."""
    out = Path(cfg.out)
    for given, flag in ((cfg.valid or cfg.test, "--valid/--test"), (cfg.spm_model, "--spm-model"),
                        (cfg.force, "--force")):  # fmt: skip
        if given:
            raise UsageError(f"--append adds training data only; drop {flag}", file=out)
    manifest = Manifest.load(out)
    if (cfg.source_lang, cfg.target_lang) != (manifest.src_lang, manifest.tgt_lang):
        raise UsageError(
            f"--append: the directory holds {manifest.src_lang}→{manifest.tgt_lang}, "
            f"not {cfg.source_lang}→{cfg.target_lang}", file=out, fix="pass the same -s/-t",
        )  # fmt: skip
    tok = Tokenizer.load(out)
    filters = manifest.filters
    cfg = dataclasses.replace(cfg, max_len=filters["max_len"],
                              max_len_ratio=filters["max_len_ratio"])  # fmt: skip
    old = manifest.splits["train"]
    with DirLock(out, ".append.lock"), mapper(cfg.workers) as pmap:
        new = binarize(resolve_splits(cfg)[0], cfg, tok, out, pmap, progress,
                       first_index=len(old.files))  # fmt: skip
        splits = {**manifest.splits, "train": merge_stats(old, new)}
        manifest = dataclasses.replace(manifest, splits=splits,
                                       format_version=format_version(splits))  # fmt: skip
        manifest.save(out)
    return manifest


def merge_stats(old: SplitStats, new: SplitStats) -> SplitStats:
    """Stats of a split with `new`'s shards appended to `old`'s."""
    shards = old.shards or [{"file": old.file, "sentences": old.sentences}]
    counts = ("read", "sentences", "src_tokens", "tgt_tokens", "src_unk", "tgt_unk",
              "invalid_replaced")  # fmt: skip
    return dataclasses.replace(
        old, sources=old.sources + new.sources, shards=shards + new.shards,
        src_max_len=max(old.src_max_len, new.src_max_len),
        tgt_max_len=max(old.tgt_max_len, new.tgt_max_len),
        dropped={k: old.dropped.get(k, 0) + v for k, v in new.dropped.items()},
        **{k: getattr(old, k) + getattr(new, k) for k in counts},
    )  # fmt: skip
