"""Continuous batching: batches join a search that is already decoding, between two steps.

Every joined batch (a cohort) keeps its own strategy, since its sentences are at their own
output step; the decoder runs once per step over the rows of all cohorts. One step: the
cohorts' last tokens concatenated → one `decode_step` on the joined state → log-probs and
weights split back by rows → each cohort's strategy advances → one reorder of the joined state
from the cohorts' indices, offset to their rows. A cohort's rows stay one contiguous block, in
joining order, so the indices never cross cohorts.

The decoder state does the joining (`DecoderState.join`: encoder memories padded to the longer
source, a Transformer's newcomers right-aligned in its key/value cache) and frees what finished
cohorts left (`compact`: cache slots and source positions no row reads any more). Each
sentence decodes as it would alone, up to rounding.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Hashable
from typing import Any

import torch
from torch import Tensor

from nmtkit.search.driver import Decodable
from nmtkit.search.strategy import Search


@dataclasses.dataclass(eq=False)
class Cohort:
    """One joined batch: its strategy, the caller's tag, and its source width S."""

    strategy: Search
    tag: Hashable
    width: int


class Continuous:
    """A search that batches join between steps; `step()` returns who finished."""

    def __init__(self, model: Decodable, new_strategy: Callable[[], Search]) -> None:
        self.model = model
        self.new_strategy = new_strategy
        self.cohorts: list[Cohort] = []
        self.state: Any = None

    @property
    def done(self) -> bool:
        return not self.cohorts

    @staticmethod
    def joinable(state: Any) -> bool:
        """Whether a decoder state can join others (every built-in family's can)."""
        return callable(getattr(state, "join", None)) and callable(getattr(state, "compact", None))

    def join(self, src: Tensor, src_lengths: Tensor, tag: Hashable) -> bool:
        """Encode a batch (src (B, S), lengths (B,)) and add its K rows per sentence after the
        running rows; they decode from the next step on. False (nothing added) when the model's
        state cannot join."""
        strategy = self.new_strategy()
        state = self.model.init_state(self.model.encode(src, src_lengths))
        if not self.joinable(state):
            return False
        expand = strategy.start(src_lengths, src.size(1))  # (N,)
        if strategy.K > 1:
            state = state.reorder(expand)
        self.state = state if self.state is None else self.state.join(state)
        self.cohorts.append(Cohort(strategy, tag, src.size(1)))
        return True

    def step(self) -> list[tuple[Hashable, Search, Tensor]]:
        """One decoder step for every cohort: (tag, strategy, batch indices) of the sentences
        it finished (`strategy.hypotheses(indices)` reads their results)."""
        cohorts = self.cohorts
        rows = [c.strategy.last_tokens.numel() for c in cohorts]
        tokens = torch.cat([c.strategy.last_tokens for c in cohorts])  # (N,)
        log_probs, state, weights = self.model.decode_step(tokens, self.state)
        finished, index, keep_memory, start = [], [], True, 0
        for cohort, n in zip(cohorts, rows, strict=True):
            strategy = cohort.strategy
            rows_w = weights[start : start + n, : cohort.width]  # (n, S of this cohort)
            strategy.advance(log_probs[start : start + n], rows_w)
            order = strategy.reorder_index
            index.append(
                torch.arange(start, start + n, device=tokens.device) if order is None
                else order + start
            )  # fmt: skip
            keep_memory &= strategy.memory_index is None
            if strategy.finished_now is not None:
                finished.append((cohort.tag, strategy, strategy.finished_now))
            start += n
        left = [c for c in cohorts if not c.strategy.done]
        if not left:
            self.cohorts, self.state = [], None
            return finished
        if any(c.strategy.reorder_index is not None for c in cohorts):
            state = state.reorder(torch.cat(index), keep_memory=keep_memory)
        if len(left) < len(cohorts):
            state = state.compact(max(c.width for c in left))
        self.cohorts, self.state = left, state
        return finished
