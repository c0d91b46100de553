"""Interfaces between encoder, attention scorer and decoder, with the data objects they exchange.

Shape letters: B batch, S source length, T target length, E embedding size, He encoder output
size, Hd decoder hidden size, A attention size, V vocabulary, L layers, N = B·K (beam).
`pad_mask` is True at padding. RNN hidden states keep PyTorch's (L, B, H) layout.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import torch
from torch import Tensor, nn

from nmtkit.config import ConfigBase


@dataclasses.dataclass(frozen=True)
class EncoderOutput:
    """What every encoder returns; states are in original source order (even with reversal)."""

    states: Tensor  # (B, S, He)
    final: Tensor  # (B, Hf) summary of the sentence, read by the decoder's bridge
    pad_mask: Tensor  # (B, S) True at padding
    lengths: Tensor  # (B,)


@dataclasses.dataclass(frozen=True)
class AttentionMemory:
    """Encoder states prepared once per batch for a scorer (keys projected once, not per step)."""

    values: Tensor  # (B, S, He)
    pad_mask: Tensor  # (B, S)
    proj_keys: Tensor | None = None  # (B, S, A), scorer-specific

    def reorder(self, index: Tensor) -> AttentionMemory:
        """Select rows (beam reordering / expansion): index (N,) → every tensor (N, ...)."""
        return AttentionMemory(
            values=self.values.index_select(0, index),
            pad_mask=self.pad_mask.index_select(0, index),
            proj_keys=None if self.proj_keys is None else self.proj_keys.index_select(0, index),
        )


@dataclasses.dataclass(frozen=True)
class DecoderState:
    """Everything a decoder carries between steps; the only place that knows how to reorder it."""

    hidden: Tensor  # (L, B, Hd)
    memory: AttentionMemory | None  # None for decoders without attention
    cell: Tensor | None = None  # (L, B, Hd) for LSTM
    input_feed: Tensor | None = None  # (B, Hf) Luong input feeding / Bahdanau previous context
    attn_sum: Tensor | None = None  # (B, S) attention history (coverage-style scorers)

    def reorder(self, index: Tensor) -> DecoderState:
        """index (N,) selects batch rows: dim 1 for hidden/cell, dim 0 for the rest."""

        def rows(t: Tensor | None, dim: int = 0) -> Tensor | None:
            return None if t is None else t.index_select(dim, index)

        return DecoderState(
            hidden=self.hidden.index_select(1, index),
            memory=None if self.memory is None else self.memory.reorder(index),
            cell=rows(self.cell, 1),
            input_feed=rows(self.input_feed),
            attn_sum=rows(self.attn_sum),
        )


class Described:
    """`describe(config)`: how a component says what it is, in words, for the line that
    `nmtkit train` prints at start (`rnn encoder (bi-LSTM 2x256) → concat scorer → ...`)."""

    @classmethod
    def describe(cls, config: ConfigBase) -> str:
        """A few words on this configuration, e.g. "bi-LSTM 2x256"; "" for the name alone."""
        return ""


class Encoder(Described, nn.Module):
    """Encodes embedded source tokens. Subclasses: `__init__(config, *, emb_size)`."""

    output_size: int  # He
    final_size: int  # Hf

    @classmethod
    def sizes(cls, config: ConfigBase, *, emb_size: int) -> tuple[int, int]:
        """(output_size He, final_size Hf) from the config alone, so build.py can check sizes
        before allocating anything."""
        raise NotImplementedError

    @classmethod
    def check(cls, config: ConfigBase, *, emb_size: int) -> str | None:
        """A reason this configuration cannot work, or None."""
        return None

    def forward(self, src_emb: Tensor, lengths: Tensor) -> EncoderOutput:  # (B, S, E), (B,)
        raise NotImplementedError


class Scorer(Described, nn.Module):
    """Attention scorer. Subclasses write `energies` (and `prepare` when keys need projecting).

    The base class masks padding with -inf, normalises in float32 (safe under autocast) and mixes
    the values. Subclasses: `__init__(config, *, query_size, key_size)`.
    """

    #: Scorers that need query_size == key_size set this; build.py refuses mismatches early.
    needs_equal_sizes: ClassVar[bool] = False

    def __init__(self, config: ConfigBase, *, query_size: int, key_size: int) -> None:
        super().__init__()
        self.config = config
        self.query_size = query_size
        self.key_size = key_size

    @classmethod
    def check(cls, config: ConfigBase, *, query_size: int, key_size: int) -> str | None:
        """A reason this combination cannot work, or None. Called before building."""
        if cls.needs_equal_sizes and query_size != key_size:
            return f"needs decoder query size ({query_size}) == encoder output size ({key_size})"
        return None

    def prepare(self, values: Tensor, pad_mask: Tensor) -> AttentionMemory:
        """Project keys once per batch. values (B, S, He), pad_mask (B, S)."""
        return AttentionMemory(values=values, pad_mask=pad_mask)

    def energies(self, query: Tensor, memory: AttentionMemory) -> Tensor:
        """Raw scores: query (B, T, Hq) → (B, T, S)."""
        raise NotImplementedError

    def forward(self, query: Tensor, memory: AttentionMemory) -> tuple[Tensor, Tensor]:
        """query (B, T, Hq) → context (B, T, He), weights (B, T, S) (float32 softmax, 0 on pad)."""
        energies = self.energies(query, memory).float()  # (B, T, S)
        energies = energies.masked_fill(memory.pad_mask.unsqueeze(1), float("-inf"))
        weights = torch.softmax(energies, dim=-1)  # (B, T, S)
        context = torch.bmm(weights.to(memory.values.dtype), memory.values)  # (B, T, He)
        return context, weights


class Decoder(Described, nn.Module):
    """Decoder. Subclasses: `__init__(config, *, emb_size, enc_output_size, enc_final_size,
    scorer)`; the scorer is built by models/build.py and injected (None for `plain`)."""

    output_size: int  # Ho: features handed to the generator

    #: False for decoders without attention (`plain`): build.py then injects no scorer.
    uses_attention: ClassVar[bool] = True

    @classmethod
    def query_size(cls, config: ConfigBase) -> int:
        """Size Hq of the attention query, so build.py can build (and check) the scorer first."""
        return int(config.hidden_size)  # type: ignore[attr-defined]

    @classmethod
    def check(
        cls, config: ConfigBase, *, emb_size: int, enc_output_size: int, enc_final_size: int
    ) -> str | None:
        """A reason this configuration cannot work, or None. Called before building."""
        return None

    def init_state(self, enc: EncoderOutput) -> DecoderState:
        raise NotImplementedError

    def step(self, prev_emb: Tensor, state: DecoderState) -> tuple[Tensor, DecoderState, Tensor]:
        """prev_emb (B, E) → features (B, Ho), new state, weights (B, S)."""
        raise NotImplementedError

    def forward(self, tgt_emb: Tensor, state: DecoderState) -> tuple[Tensor, Tensor]:
        """Teacher-forced: tgt_emb (B, T, E) → features (B, T, Ho), weights (B, T, S).

        Default: loop over `step`. Decoders may override with a fused path; the contract test
        checks that both give the same result.
        """
        features, weights = [], []
        for t in range(tgt_emb.size(1)):
            feat, state, w = self.step(tgt_emb[:, t], state)
            features.append(feat)
            weights.append(w)
        return torch.stack(features, 1), torch.stack(weights, 1)
