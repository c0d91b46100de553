"""Interfaces between encoder, attention scorer and decoder, with the data objects they exchange.

Shape letters: B batch, S source length, T target length, E embedding size, He encoder output
size, Hd decoder hidden size, A attention size, V vocabulary, L layers, N = B·K (beam).
`pad_mask` is True at padding. RNN hidden states keep PyTorch's (L, B, H) layout.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, ClassVar, Protocol, Self

import torch
import torch.nn.functional as F
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
    """Keys/values prepared once per batch for a scorer (keys projected once, not per step).

    `values` is (B, S, He) for single-head scorers; a scorer may keep its own layout (multihead:
    per-head projected values (B, H, S, d) in `values`, keys in `proj_keys`). Every tensor has
    the batch in dim 0, so reordering is the same for all.
    """

    values: Tensor  # (B, S, He) or scorer-specific (B, ...)
    pad_mask: Tensor | None  # (B, S) True at padding; None: no padding (self-attention caches)
    proj_keys: Tensor | None = None  # (B, S, A) or scorer-specific (B, ...)

    def reorder(self, index: Tensor) -> AttentionMemory:
        """Select rows (beam reordering / expansion): index (N,) → every tensor (N, ...)."""
        return AttentionMemory(
            values=self.values.index_select(0, index),
            pad_mask=None if self.pad_mask is None else self.pad_mask.index_select(0, index),
            proj_keys=None if self.proj_keys is None else self.proj_keys.index_select(0, index),
        )


class DecoderState(Protocol):
    """What search needs from a decoder's state: each decoder family owns its state class.

    The search package calls only `reorder`; it never looks inside. Concrete states: RNNState
    (models/rnn_state.py), TransformerState (models/decoders/transformer.py).
    """

    def reorder(self, index: Tensor, *, keep_memory: bool = False) -> Self:
        """Select decoder rows: index (N',) of rows of the current (N, ...) state.

        keep_memory=True is the caller's promise that every row's encoder memory is unchanged
        by `index` (beam rows of one sentence swap parents and no sentence leaves, so rows with
        identical memory map onto each other): the memory is then reused, not copied.
        """
        ...


def attention_weights(
    energies: Tensor, pad_mask: Tensor | None, mask: Tensor | None = None
) -> Tensor:
    """The shared masking and normalisation of every scorer (and of self-attention).

    energies (B, T, S) or (B, H, T, S); pad_mask (B, S) True at padding (None: none); mask (T, S) or
    (B, T, S) True where a query may not look (causal self-attention), or None. Masks are
    applied after the float32 cast, with -inf, so bf16/fp16 cannot round them to a finite
    value; the softmax is float32 → weights float32, same shape as energies.
    """
    energies = energies.float()
    heads = energies.dim() - 3  # 0 or 1 head dimensions between batch and time
    if pad_mask is not None:
        pad = pad_mask.view(pad_mask.size(0), *([1] * (heads + 1)), pad_mask.size(1))
        energies = energies.masked_fill(pad, float("-inf"))
    if mask is not None:
        if mask.dim() == 3 and heads:
            mask = mask.unsqueeze(1)  # (B, 1, T, S)
        energies = energies.masked_fill(mask, float("-inf"))
    return torch.softmax(energies, dim=-1)


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
    #: Dropout on the attention weights used for mixing (Transformer layers set it).
    dropout_p: float = 0.0

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

    def head_weights(
        self, query: Tensor, memory: AttentionMemory, mask: Tensor | None = None
    ) -> Tensor:
        """Every head's weights (B, H, T, S), float32 (H = 1 for single-head scorers)."""
        weights = attention_weights(self.energies(query, memory), memory.pad_mask, mask)
        return weights if weights.dim() == 4 else weights.unsqueeze(1)

    def forward(
        self,
        query: Tensor,
        memory: AttentionMemory,
        mask: Tensor | None = None,
        *,
        need_weights: bool = True,
    ) -> tuple[Tensor, Tensor | None]:
        """query (B, T, Hq) → context (B, T, He), weights (B, T, S) (float32, 0 on pad).

        mask (T, S) or (B, T, S), True where query t may not look at position s (causal
        self-attention), beside the memory's pad_mask. need_weights=False lets a scorer take a
        fused path (scaled_dot_product_attention) that never forms the weights; it may then
        return None for them. Attention dropout (`dropout_p`, set by decoders that want it)
        drops mixing weights in training; the returned weights are the undropped ones.
        """
        weights = attention_weights(self.energies(query, memory), memory.pad_mask, mask)
        mix = F.dropout(weights, self.dropout_p, self.training) if self.dropout_p else weights
        context = torch.bmm(mix.to(memory.values.dtype), memory.values)  # (B, T, He)
        return context, weights


ScorerFactory = Callable[[], "Scorer"]


class Decoder(Described, nn.Module):
    """Decoder. Subclasses: `__init__(config, *, emb_size, enc_output_size, enc_final_size,
    scorer)`; the scorer is built by models/build.py and injected (None for `plain`). A decoder
    that attends more than once (one cross-attention per layer) sets `scorer_factory = True` and
    receives a ScorerFactory instead: each call builds a fresh scorer of the chosen kind."""

    output_size: int  # Ho: features handed to the generator

    #: False for decoders without attention (`plain`): build.py then injects no scorer.
    uses_attention: ClassVar[bool] = True
    #: True: `scorer` is a ScorerFactory (one scorer per layer), not a Scorer.
    scorer_factory: ClassVar[bool] = False
    #: Scorer used when the model config says attention "auto".
    default_attention: ClassVar[str] = "dot"

    @classmethod
    def attention_defaults(cls, config: ConfigBase, *, emb_size: int) -> dict[str, Any]:
        """Options for `default_attention` under "auto" that follow this decoder's config (the
        Transformer's heads and model size); the user's attention options still win."""
        return {}

    @classmethod
    def query_size(cls, config: ConfigBase, *, emb_size: int) -> int:
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

    def attention_heads(self, tgt_emb: Tensor, state: DecoderState) -> Tensor | None:
        """Teacher-forced cross-attention of every layer and head, (B, L, H, T, S) float32, for
        inspection (`translate --attention-heads`); None where the decoder has no layers of
        multi-head attention to show beyond its usual weights."""
        return None

    def set_alignment_layer(self, layer: int) -> None:
        """Decoders that attend in several layers return this layer's weights from now on
        (negative: from the end); a decoder with one attention has nothing to choose."""

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
