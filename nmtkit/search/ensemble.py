"""Ensembles: several checkpoints decode as one model (`-c A -c B`)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor


@dataclasses.dataclass(frozen=True)
class EnsembleState:
    """One decoder state per model; reordering reorders each (rows stay aligned)."""

    states: tuple[Any, ...]

    def reorder(self, index: Tensor, *, keep_memory: bool = False) -> EnsembleState:
        return EnsembleState(tuple(s.reorder(index, keep_memory=keep_memory) for s in self.states))


class Ensemble:
    """Implements the decode protocol (encode / init_state / decode_step) over several models.

    The next-piece distribution is the arithmetic mean of the members' log-probs (a product of
    experts, renormalisation omitted: beam ranking only compares candidates of one step). An
    ensemble of a model with itself therefore equals the model exactly. Attention weights are
    averaged too, for alignments and plots.
    """

    def __init__(self, models: Sequence[Any]) -> None:
        if not models:
            raise ValueError("an ensemble needs at least one model")
        self.models = list(models)

    def encode(self, src: Tensor, src_lengths: Tensor) -> tuple[Any, ...]:
        """src (B, S), src_lengths (B,) → one EncoderOutput per model."""
        return tuple(m.encode(src, src_lengths) for m in self.models)

    def init_state(self, encoded: tuple[Any, ...]) -> EnsembleState:
        return EnsembleState(
            tuple(m.init_state(e) for m, e in zip(self.models, encoded, strict=True))
        )

    def decode_step(
        self, prev_tokens: Tensor, state: EnsembleState
    ) -> tuple[Tensor, EnsembleState, Tensor]:
        """prev_tokens (N,) → mean log_probs (N, V) fp32, new state, mean weights (N, S)."""
        outs = [
            m.decode_step(prev_tokens, s) for m, s in zip(self.models, state.states, strict=True)
        ]
        log_probs = torch.stack([o[0].float() for o in outs]).mean(0)  # (N, V)
        weights = torch.stack([o[2].float() for o in outs]).mean(0)  # (N, S)
        return log_probs, EnsembleState(tuple(o[1] for o in outs)), weights
