"""Binarized splits: a flat token array plus offsets per side, in one safetensors file.

Layout: ``src_tokens (M,) uintX``, ``src_offsets (N+1,) int64`` and the same for ``tgt``; sentence
i is ``tokens[offsets[i]:offsets[i+1]]`` (pieces only, no specials). Tokens use the smallest
unsigned dtype that holds the vocabulary, so a 32k vocab costs 2 bytes per token.

Reading memory-maps the token arrays (copy-on-write, paged in lazily), so opening a split of any
size is instant and costs no RAM until sentences are touched; offsets are loaded eagerly (8 bytes
per sentence) because lengths are needed for batching anyway.
"""

from __future__ import annotations

import json
import mmap
import struct
from array import array
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from torch import Tensor

from nmtkit.errors import UsageError
from nmtkit.io.checkpoint import save_tensors

FORMAT = "nmtkit.split.v1"
_DTYPES = {"U8": torch.uint8, "U16": torch.uint16, "U32": torch.uint32}


def token_dtype(vocab_size: int) -> torch.dtype:
    """Smallest unsigned dtype that stores ids 0..vocab_size-1."""
    if vocab_size <= 1 << 8:
        return torch.uint8
    if vocab_size <= 1 << 16:
        return torch.uint16
    return torch.uint32


def tokens_tensor(tokens: array, vocab_size: int) -> Tensor:
    """Flat ids (array of 'I', all < vocab_size) → (M,) tensor of the smallest dtype.

    One vectorised cast straight from the array's buffer: no int64 intermediate (8 B/token).
    """
    if not len(tokens):
        return torch.zeros(0, dtype=token_dtype(vocab_size))
    return torch.frombuffer(tokens, dtype=torch.int32).to(token_dtype(vocab_size))  # (M,)


def offsets_tensor(lengths: array) -> Tensor:
    """Sentence lengths (array of 'I') → (N+1,) int64 offsets starting at 0."""
    lens = torch.frombuffer(lengths, dtype=torch.int32).to(torch.int64) if len(lengths) else None
    offsets = torch.zeros(len(lengths) + 1, dtype=torch.int64)  # (N+1,)
    if lens is not None:
        torch.cumsum(lens, 0, out=offsets[1:])
    return offsets


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
    """Write one split; arrays are typecode 'I' (uint32) as filled by preprocess."""
    tensors = {
        "src_offsets": offsets_tensor(src_lengths),
        "tgt_offsets": offsets_tensor(tgt_lengths),
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
            with open(path, "rb") as raw:
                self._mmap = mmap.mmap(raw.fileno(), 0, access=mmap.ACCESS_COPY)
            # Offsets as array('q') too: indexing it gives Python ints without a tensor per access.
            self._src_off = self._offsets(header["src_offsets"], start)
            self._tgt_off = self._offsets(header["tgt_offsets"], start)
        except UsageError:
            raise
        except Exception as exc:  # safetensors raises its own error types
            raise UsageError(f"unreadable split file: {exc}", file=path) from None
        self.src_offsets = torch.frombuffer(self._src_off, dtype=torch.int64)  # (N+1,)
        self.tgt_offsets = torch.frombuffer(self._tgt_off, dtype=torch.int64)  # (N+1,)
        self._src_tokens = self._view(header["src_tokens"], start)  # (M_src,)
        self._tgt_tokens = self._view(header["tgt_tokens"], start)  # (M_tgt,)
        if len(self.src_offsets) != len(self.tgt_offsets):
            raise UsageError("src and tgt sentence counts differ", file=path)
        self.src_lengths = self.src_offsets[1:] - self.src_offsets[:-1]  # (N,)
        self.tgt_lengths = self.tgt_offsets[1:] - self.tgt_offsets[:-1]  # (N,)

    def _offsets(self, info: dict[str, Any], start: int) -> array:
        begin, end = info["data_offsets"]
        if info["dtype"] != "I64" or end - begin < 8:
            raise UsageError("bad offsets in split file", file=self.path)
        return array("q", self._mmap[start + begin : start + end])

    def _view(self, info: dict[str, Any], start: int) -> Tensor:
        begin, end = info["data_offsets"]
        dtype = _DTYPES[info["dtype"]]
        if end == begin:
            return torch.zeros(0, dtype=dtype)
        count = (end - begin) // dtype.itemsize
        return torch.frombuffer(self._mmap, dtype=dtype, count=count, offset=start + begin)

    def __len__(self) -> int:
        return len(self.src_offsets) - 1

    def src(self, i: int) -> Tensor:
        """Source pieces of sentence i, (L,) int64."""
        return self._src_tokens[self._src_off[i] : self._src_off[i + 1]].to(torch.int64)

    def tgt(self, i: int) -> Tensor:
        """Target pieces of sentence i, (L,) int64."""
        return self._tgt_tokens[self._tgt_off[i] : self._tgt_off[i + 1]].to(torch.int64)

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
