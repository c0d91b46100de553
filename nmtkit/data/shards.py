"""A split stored as one or more shard files, read as one sequence of pairs.

Every shard is memory-mapped (`Split`); the only per-pair data held in memory are the source and
target lengths, concatenated into one compact tensor per side (int16, or int32 when a sentence
has 32,768 pieces or more): 4 bytes per pair, what batching needs. Pair `i` of the split is pair
`i - start[k]` of shard `k`; the shard is found by bisecting the shard start indices.
"""

from __future__ import annotations

import bisect
import itertools
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from nmtkit.data.binarized import Split
from nmtkit.errors import UsageError


def _concat_lengths(parts: list[Tensor]) -> Tensor:
    """(N,) lengths of all shards in int16 when they fit, else int32; one shard at a time."""
    small: list[Tensor] = []
    for part in parts:
        wide = part.to(torch.int32)  # (n,) the stored dtype may be uint16
        fits = not len(wide) or int(wide.max()) < 1 << 15
        small.append(wide.to(torch.int16) if fits else wide)
    dtype = torch.int32 if any(p.dtype == torch.int32 for p in small) else torch.int16
    if not small:
        return torch.zeros(0, dtype=dtype)
    return torch.cat([p.to(dtype) for p in small])  # (N,)


class ShardedSplit:
    """One split over its shard files; `src(i)`/`tgt(i)` are int64 (L,) tensors without specials.

    Attributes:
        src_lengths, tgt_lengths: (N,) int16/int32 piece counts over all shards, in order.
        shards: the opened `Split` per file.
    """

    def __init__(self, paths: list[Path], sentences: list[int] | None = None) -> None:
        self.paths = [Path(p) for p in paths]
        self.shards = [Split.open(p) for p in self.paths]
        if sentences is not None:
            for path, shard, want in zip(self.paths, self.shards, sentences, strict=True):
                if len(shard) != want:
                    raise UsageError(
                        f"shard holds {len(shard)} pairs, the manifest lists {want}",
                        file=path, fix="the data directory is damaged; re-run nmtkit preprocess",
                    )
        self._starts = list(itertools.accumulate((len(s) for s in self.shards), initial=0))
        self.src_lengths = _concat_lengths([s.lengths("src") for s in self.shards])  # (N,)
        self.tgt_lengths = _concat_lengths([s.lengths("tgt") for s in self.shards])  # (N,)

    def __len__(self) -> int:
        return self._starts[-1]

    def _locate(self, i: int) -> tuple[Split, int]:
        if not 0 <= i < len(self):
            raise IndexError(f"pair {i} out of range for {len(self)} pairs")
        k = bisect.bisect_right(self._starts, i) - 1
        return self.shards[k], i - self._starts[k]

    def src(self, i: int) -> Tensor:
        shard, j = self._locate(i)
        return shard.src(j)

    def tgt(self, i: int) -> Tensor:
        shard, j = self._locate(i)
        return shard.tgt(j)

    def __getstate__(self) -> dict[str, Any]:
        return {"paths": self.paths}  # shards reopen (mmaps do not pickle)

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["paths"])


def open_split(manifest: Any, name: str) -> ShardedSplit:
    """The split `name` of a loaded Manifest, all its shards opened."""
    stats = manifest.splits.get(name)
    sizes = [s["sentences"] for s in stats.shards] if stats is not None and stats.shards else None
    return ShardedSplit(manifest.split_paths(name), sizes)
