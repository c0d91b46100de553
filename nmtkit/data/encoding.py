"""Encode one chunk of raw line pairs: UTF-8 check, cleaning, sentencepiece, train filters.

Runs in the main process or in a worker process (`--workers N`); it returns compact typed arrays
in the width the shard stores (2 bytes per token for vocabularies up to 64k) rather than lists of
Python ints, so little is pickled back and the parent holds at most one shard of them.
"""

from __future__ import annotations

import dataclasses
import functools
from array import array
from itertools import compress

import sentencepiece as spm

from nmtkit.data.specials import UNK_ID
from nmtkit.data.textio import decode_line

REASONS = ("invalid_utf8", "empty", "too_long", "ratio")


@functools.lru_cache(maxsize=4)
def _processor(path: str) -> spm.SentencePieceProcessor:
    """One loaded model per process and path (workers load lazily on their first chunk)."""
    return spm.SentencePieceProcessor(model_file=path)


@dataclasses.dataclass(frozen=True, kw_only=True)
class ChunkEncoder:
    """What a chunk needs to know: models and the filters (train only; 0 disables a filter).

    invalid lines: `drop` (train with --skip-invalid), `replace` with U+FFFD (valid/test with
    --skip-invalid: keeps references aligned), or `report` (the caller raises a UsageError).
    """

    src_model: str
    tgt_model: str
    filter: bool
    max_len: int = 0
    max_len_ratio: float = 0.0
    invalid: str = "report"
    src_typecode: str = "I"  # array typecode of the stored token width (binarized.token_typecode)
    tgt_typecode: str = "I"


@dataclasses.dataclass(kw_only=True)
class ChunkResult:
    src_tokens: array
    src_lengths: array
    tgt_tokens: array
    tgt_lengths: array
    src_unk: int = 0
    tgt_unk: int = 0
    dropped: dict[str, int] = dataclasses.field(default_factory=lambda: dict.fromkeys(REASONS, 0))
    replaced: int = 0
    first_invalid: tuple[int, str] | None = None  # (line number, "src" | "tgt")


def _decode(raw: list[bytes], first: int, side: str, enc: ChunkEncoder, res: ChunkResult
            ) -> list[str | None]:
    out = [decode_line(line) for line in raw]
    for k, text in enumerate(out):
        if text is not None:
            continue
        if res.first_invalid is None or first + k < res.first_invalid[0]:
            res.first_invalid = (first + k, side)
        if enc.invalid == "replace":
            res.replaced += 1
            out[k] = decode_line(raw[k].decode("utf-8", errors="replace").encode())
    return out


def _keep_reason(ls: int, lt: int, enc: ChunkEncoder) -> str | None:
    """Why a train pair is dropped (None: keep); the first matching reason counts."""
    if ls == 0 or lt == 0:
        return "empty"
    if enc.max_len and (ls > enc.max_len or lt > enc.max_len):
        return "too_long"
    if enc.max_len_ratio and max(ls, lt) > enc.max_len_ratio * min(ls, lt):
        return "ratio"
    return None


def encode_chunk(enc: ChunkEncoder, job: tuple[int, list[bytes], list[bytes]]) -> ChunkResult:
    """Encode (first line number, src lines, tgt lines); see ChunkEncoder for the policies."""
    first, src_raw, tgt_raw = job
    res = ChunkResult(src_tokens=array(enc.src_typecode), src_lengths=array("I"),
                      tgt_tokens=array(enc.tgt_typecode), tgt_lengths=array("I"))
    src_text = _decode(src_raw, first, "src", enc, res)
    tgt_text = _decode(tgt_raw, first, "tgt", enc, res)
    valid = [s is not None and t is not None for s, t in zip(src_text, tgt_text, strict=True)]
    res.dropped["invalid_utf8"] = valid.count(False)
    src_ids = _processor(enc.src_model).encode(list(compress(src_text, valid)))
    tgt_ids = _processor(enc.tgt_model).encode(list(compress(tgt_text, valid)))
    for s, t in zip(src_ids, tgt_ids, strict=True):
        reason = _keep_reason(len(s), len(t), enc) if enc.filter else None
        if reason is not None:
            res.dropped[reason] += 1
            continue
        res.src_lengths.append(len(s))
        res.tgt_lengths.append(len(t))
        res.src_tokens.extend(s)
        res.tgt_tokens.extend(t)
        res.src_unk += s.count(UNK_ID)
        res.tgt_unk += t.count(UNK_ID)
    return res
