"""RNNState: the decoding state of the RNN decoder family (bahdanau, luong, plain)."""

from __future__ import annotations

import dataclasses

from torch import Tensor

from nmtkit.models.base import AttentionMemory


@dataclasses.dataclass(frozen=True)
class RNNState:
    """Everything an RNN decoder carries between steps; the only place that knows its layout.

    hidden/cell keep PyTorch's (L, N, Hd) layout, so rows are dim 1 there and dim 0 elsewhere.
    """

    hidden: Tensor  # (L, N, Hd)
    memory: AttentionMemory | None  # None for decoders without attention
    cell: Tensor | None = None  # (L, N, Hd) for LSTM
    input_feed: Tensor | None = None  # (N, Hf) Luong input feeding

    def reorder(self, index: Tensor, *, keep_memory: bool = False) -> RNNState:
        """index (N',) selects rows: dim 1 for hidden/cell, dim 0 for the rest."""
        memory = self.memory
        if memory is not None and not keep_memory:
            memory = memory.reorder(index)
        return RNNState(
            hidden=self.hidden.index_select(1, index),
            memory=memory,
            cell=None if self.cell is None else self.cell.index_select(1, index),
            input_feed=None if self.input_feed is None else self.input_feed.index_select(0, index),
        )
