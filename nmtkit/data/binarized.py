"""Binarized shards: a flat token array plus offsets per side, in one safetensors file.

Layout: ``src_tokens (M,) uintX``, ``src_offsets (N+1,) int64`` and the same for ``tgt``; sentence
i is ``tokens[offsets[i]:offsets[i+1]]`` (pieces only, no specials). Tokens use the smallest
unsigned dtype that holds the vocabulary, so a 32k vocab costs 2 bytes per token. Files written
since the sharded format also hold ``src_lengths``/``tgt_lengths (N,)`` in the smallest unsigned
dtype (2 bytes per sentence below 65,536 pieces), so a reader can batch without touching offsets;
older files compute them from the offsets.

Reading memory-maps the whole file (copy-on-write, paged in lazily): offsets and tokens stay on
disk until a sentence is read, so opening a shard of any size is instant and costs no RAM.
`src(i)`/`tgt(i)` read a sentence's pieces with pread(2) where the OS has it: training reads
pairs in random order, and each page fault on the mapping also maps the cached pages around it
(fault-around, which madvise(MADV_RANDOM) does not stop), so a mapped process's RSS would grow
by about 64 KB per pair read, to the whole corpus; pread leaves those pages in the page cache.
"""

from __future__ import annotations

import json
import mmap
import os
import struct
import weakref
from array import array
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from torch import Tensor

from nmtkit.errors import UsageError
from nmtkit.io.checkpoint import save_tensors

FORMAT = "nmtkit.split.v1"
_DTYPES = {"U8": torch.uint8, "U16": torch.uint16, "U32": torch.uint32, "I32": torch.int32,
           "I64": torch.int64}


def token_dtype(vocab_size: int) -> torch.dtype:
    """Smallest unsigned dtype that stores ids 0..vocab_size-1."""
    if vocab_size <= 1 << 8:
        return torch.uint8
    if vocab_size <= 1 << 16:
        return torch.uint16
    return torch.uint32


_TYPECODES = {torch.uint8: "B", torch.uint16: "H", torch.uint32: "I"}
_ARRAY_DTYPES = {"B": torch.uint8, "H": torch.uint16, "I": torch.int32}


def token_typecode(vocab_size: int) -> str:
    """array typecode of token_dtype(vocab_size): encoders fill arrays of the stored width."""
    return _TYPECODES[token_dtype(vocab_size)]


def array_tensor(values: array, dtype: torch.dtype) -> Tensor:
    """(M,) tensor of `dtype` from an array of 'B', 'H' or 'I' (a view when widths match)."""
    if not len(values):
        return torch.zeros(0, dtype=dtype)
    view = torch.frombuffer(values, dtype=_ARRAY_DTYPES[values.typecode])  # (M,)
    return view if view.dtype == dtype else view.to(dtype)


def tokens_tensor(tokens: array, vocab_size: int) -> Tensor:
    """Flat ids (array of 'B'/'H'/'I', all < vocab_size) → (M,) tensor of the smallest dtype."""
    return array_tensor(tokens, token_dtype(vocab_size))


def offsets_tensor(lengths: array) -> Tensor:
    """Sentence lengths (array of 'I') → (N+1,) int64 offsets starting at 0."""
    offsets = torch.zeros(len(lengths) + 1, dtype=torch.int64)  # (N+1,)
    if len(lengths):
        torch.cumsum(array_tensor(lengths, torch.int64), 0, out=offsets[1:])
    return offsets


def lengths_tensor(lengths: array) -> Tensor:
    """Sentence lengths → (N,) uint16, or int32 if a sentence has 65,536 pieces or more."""
    wide = len(lengths) and max(lengths) >= 1 << 16
    return array_tensor(lengths, torch.int32 if wide else torch.uint16)


def write_split(
    path: Path,
    *,
    src_tokens: array,
    src_lengths: array,
    tgt_tokens: array,
    tgt_lengths: array,
    src_vocab_size: int,
    tgt_vocab_size: int,
) -> None:
    """Write one shard; lengths are typecode 'I', tokens 'B'/'H'/'I' as filled by preprocess."""
    tensors = {
        "src_offsets": offsets_tensor(src_lengths),
        "tgt_offsets": offsets_tensor(tgt_lengths),
        "src_lengths": lengths_tensor(src_lengths),
        "tgt_lengths": lengths_tensor(tgt_lengths),
        "src_tokens": tokens_tensor(src_tokens, src_vocab_size),
        "tgt_tokens": tokens_tensor(tgt_tokens, tgt_vocab_size),
    }
    save_tensors(path, tensors, {"format": FORMAT})


def _header(path: Path) -> tuple[int, dict[str, Any]]:
    """(data start, header) of a safetensors file, per its spec: u64 length + JSON header."""
    with open(path, "rb") as f:
        (size,) = struct.unpack("<Q", f.read(8))
        return 8 + size, json.loads(f.read(size))


class Split:
    """One binarized split. `src(i)`/`tgt(i)` are int64 (L,) tensors without specials."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._load()

    @classmethod
    def open(cls, path: str | Path) -> Split:
        return cls(path)

    def _load(self) -> None:
        path = self.path
        if not path.is_file():
            raise UsageError("binarized split not found", file=path, fix="re-run nmtkit preprocess")
        try:
            with safe_open(str(path), framework="pt") as f:
                if (f.metadata() or {}).get("format") != FORMAT:
                    raise UsageError(f"not an nmtkit split (format != {FORMAT})", file=path)
            start, header = _header(path)
            # One descriptor for the mapping and for pread (see the module docstring).
            self._fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
            weakref.finalize(self, os.close, self._fd)
            self._mmap = mmap.mmap(self._fd, 0, access=mmap.ACCESS_COPY)
            # Offsets as memoryviews of the mapping: indexing gives Python ints without a tensor
            # per access, and nothing is copied or read before a sentence is.
            self._src_off = self._offsets(header["src_offsets"], start)
            self._tgt_off = self._offsets(header["tgt_offsets"], start)
        except UsageError:
            raise
        except Exception as exc:  # safetensors raises its own error types
            raise UsageError(f"unreadable split file: {exc}", file=path) from None
        self._header = (start, header)
        self._src_tokens = self._view(header["src_tokens"], start)  # (M_src,)
        self._tgt_tokens = self._view(header["tgt_tokens"], start)  # (M_tgt,)
        self._pread = hasattr(os, "pread")
        if len(self._src_off) != len(self._tgt_off):
            raise UsageError("src and tgt sentence counts differ", file=path)

    def _offsets(self, info: dict[str, Any], start: int) -> memoryview:
        begin, end = info["data_offsets"]
        if info["dtype"] != "I64" or end - begin < 8 or (end - begin) % 8:
            raise UsageError("bad offsets in split file", file=self.path)
        raw = memoryview(self._mmap)[start + begin : start + end]
        return raw.cast("q") if (start + begin) % 8 == 0 else memoryview(array("q", raw))

    @property
    def src_offsets(self) -> Tensor:
        """(N+1,) int64, a view of the mapped file."""
        return torch.frombuffer(self._src_off, dtype=torch.int64)

    @property
    def tgt_offsets(self) -> Tensor:
        return torch.frombuffer(self._tgt_off, dtype=torch.int64)

    def lengths(self, side: str) -> Tensor:
        """(N,) int32 piece counts of `side` ("src"/"tgt"), from the stored compact tensor or
        (older files) from the offsets."""
        start, header = self._header
        if f"{side}_lengths" in header:
            return self._view(header[f"{side}_lengths"], start).to(torch.int32)  # (N,)
        offsets = self.src_offsets if side == "src" else self.tgt_offsets
        return (offsets[1:] - offsets[:-1]).to(torch.int32)  # (N,)

    @property
    def src_lengths(self) -> Tensor:
        return self.lengths("src")

    @property
    def tgt_lengths(self) -> Tensor:
        return self.lengths("tgt")

    def _view(self, info: dict[str, Any], start: int) -> Tensor:
        begin, end = info["data_offsets"]
        dtype = _DTYPES[info["dtype"]]
        if end == begin:
            return torch.zeros(0, dtype=dtype)
        count = (end - begin) // dtype.itemsize
        return torch.frombuffer(self._mmap, dtype=dtype, count=count, offset=start + begin)

    def __len__(self) -> int:
        return len(self._src_off) - 1

    def _read(self, side: str, a: int, b: int) -> Tensor:
        """Pieces a..b-1 of `side` as (b-a,) int64: pread where available, else the mapping."""
        tokens = self._src_tokens if side == "src" else self._tgt_tokens  # (M,) stored dtype
        if not self._pread or b <= a:
            return tokens[a:b].to(torch.int64)
        start, header = self._header
        size, item = (b - a) * tokens.itemsize, tokens.itemsize
        where = start + header[f"{side}_tokens"]["data_offsets"][0] + a * item
        data = bytearray(os.pread(self._fd, size, where))
        if len(data) != size:
            raise UsageError("split file is truncated", file=self.path, fix="re-run preprocess")
        return torch.frombuffer(data, dtype=tokens.dtype).to(torch.int64)  # (b-a,)

    def src(self, i: int) -> Tensor:
        """Source pieces of sentence i, (L,) int64."""
        return self._read("src", self._src_off[i], self._src_off[i + 1])

    def tgt(self, i: int) -> Tensor:
        """Target pieces of sentence i, (L,) int64."""
        return self._read("tgt", self._tgt_off[i], self._tgt_off[i + 1])

    @property
    def src_tokens(self) -> Tensor:
        """All source pieces, flat (M,), in the stored dtype (no copy)."""
        return self._src_tokens

    @property
    def tgt_tokens(self) -> Tensor:
        return self._tgt_tokens

    def __getstate__(self) -> dict[str, Any]:
        return {"path": self.path}  # mmaps do not pickle; reopen in the other process

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.path = state["path"]
        self._load()
