"""KVCache: preallocated self-attention keys and values of every Transformer decoder layer.

Incremental decoding appends one position per step and beam search reorders rows every step.
Appending by concatenation would copy each layer's keys and values twice per step (the
concatenation, then the reorder's selection). Here every layer lives in one buffer
(L, 2, N, H, capacity, d): a step writes its position in place, and a reorder copies the filled
prefix once, for all layers, with one `index_select` into a fresh buffer (which is also when
the capacity grows).

Rows (N) are dim 2. A cache belongs to the newest state that wrote it: `ensure_writable(t)`
returns a private copy when position t was already written by another state, so older states
(tests branch them) never see later writes.
"""

from __future__ import annotations

import torch
from torch import Tensor

#: Positions allocated at the first step; reorders double the capacity when it is full.
INITIAL_CAPACITY = 16


class KVCache:
    """buffer (L, 2, N, H, capacity, d): positions [0, filled) hold keys ([:, 0]) and values
    ([:, 1])."""

    def __init__(self, buffer: Tensor, filled: int = 0) -> None:
        self.buffer = buffer
        self.filled = filled

    @classmethod
    def empty(
        cls, layers: int, rows: int, heads: int, head_size: int, *, dtype: torch.dtype,
        device: torch.device, capacity: int,
    ) -> KVCache:
        shape = (layers, 2, rows, heads, max(capacity, 1), head_size)
        return cls(torch.empty(shape, dtype=dtype, device=device))

    @property
    def capacity(self) -> int:
        return self.buffer.size(4)

    @property
    def rows(self) -> int:
        return self.buffer.size(2)

    def ensure_writable(self, start: int, steps: int) -> KVCache:
        """The cache to write positions [start, start + steps) into: self when this state is the
        newest writer and there is room, else a copy of positions [0, start) with room."""
        if self.filled == start and start + steps <= self.capacity:
            return self
        return self.resized(torch.arange(self.rows, device=self.buffer.device), start, steps)

    def write(self, layer: int, start: int, keys_values: Tensor) -> None:
        """keys_values (2, N, H, T, d) of one layer for positions [start, start + T)."""
        steps = keys_values.size(3)
        self.buffer[layer, :, :, :, start : start + steps] = keys_values
        self.filled = max(self.filled, start + steps)

    def keys_values(self, layer: int, length: int) -> tuple[Tensor, Tensor]:
        """Views of one layer's keys and values over positions [0, length): (N, H, length, d)."""
        kv = self.buffer[layer, :, :, :, :length]
        return kv[0], kv[1]

    def reorder(self, index: Tensor) -> KVCache:
        """Rows index (N',) of the filled prefix, in a new buffer (one copy for every layer)."""
        return self.resized(index, self.filled, 1)

    def resized(self, index: Tensor, length: int, steps: int) -> KVCache:
        """A new cache holding rows `index` of positions [0, length), with room for `steps`
        more (capacity doubled when full, so appends stay amortised O(1))."""
        capacity = self.capacity
        while capacity < length + steps:
            capacity *= 2
        L, two, _, H, _, d = self.buffer.shape
        buffer = self.buffer.new_empty((L, two, index.numel(), H, capacity, d))
        if length:
            prefix = self.buffer[:, :, :, :, :length]
            torch.index_select(prefix, 2, index, out=buffer[:, :, :, :, :length])
        return KVCache(buffer, length)
