"""`transformer` decoder (Vaswani et al. 2017) with incremental decoding.

Each layer: causal self-attention, cross-attention through a registry scorer (one per layer,
from build.py's scorer factory; `multihead` by default), feed-forward. Teacher-forced training
runs all T positions at once; `step` keeps every layer's keys and values in one preallocated
KVCache (models/kv_cache.py), so step t attends over t cached positions instead of rerunning
the prefix.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import torch
from torch import Tensor, nn

from nmtkit.config import ConfigBase, option
from nmtkit.errors import UsageError
from nmtkit.models import DECODERS
from nmtkit.models.base import AttentionMemory, Decoder, EncoderOutput, ScorerFactory
from nmtkit.models.kv_cache import INITIAL_CAPACITY, KVCache
from nmtkit.models.rnn import to_autocast
from nmtkit.models.transformer_layers import (
    DecoderLayer,
    InputLayer,
    TransformerConfig,
    causal_mask,
    check_transformer,
    transformer_words,
)


@dataclasses.dataclass(frozen=True, kw_only=True)
class TransformerDecoderConfig(TransformerConfig):
    alignment_layer: int = option(
        -2,
        help="layer whose cross-attention (averaged over heads) is returned for alignments and "
        "plots; negative counts from the end, down to the first layer (-2: the last but one, "
        "as fairseq; the only one in a one-layer decoder)",
    )


def alignment_index(layer: int, layers: int) -> int:
    """A layer number, negative from the end, as an index in [0, layers)."""
    return layer if layer >= 0 else max(layers + layer, 0)


@dataclasses.dataclass(frozen=True)
class TransformerState:
    """What a Transformer decoder carries between steps; rows (N) are dim 0 of the memories."""

    cross: tuple[AttentionMemory, ...]  # per layer: the scorer's prepared encoder memory
    cache: KVCache | None  # every layer's self-attention keys/values; None before step 0
    steps: int  # t, positions decoded so far

    def reorder(self, index: Tensor, *, keep_memory: bool = False) -> TransformerState:
        """index (N',): the cache always follows the rows; the encoder memory only when it must."""
        cross = self.cross if keep_memory else tuple(m.reorder(index) for m in self.cross)
        cache = None if self.cache is None else self.cache.reorder(index)
        return TransformerState(cross=cross, cache=cache, steps=self.steps)


@DECODERS.register("transformer", config=TransformerDecoderConfig)
class TransformerDecoder(Decoder):
    """L × (causal self-attention, cross-attention, feed-forward); features (B, T, d)."""

    scorer_factory = True
    default_attention = "multihead"

    def __init__(
        self,
        config: TransformerDecoderConfig,
        *,
        emb_size: int,
        enc_output_size: int,
        enc_final_size: int,
        scorer: ScorerFactory | None,
    ) -> None:
        super().__init__()
        assert callable(scorer), "the transformer decoder needs a scorer factory"
        self.config = config
        size = self.output_size = config.size(emb_size)
        self.input = InputLayer(config, emb_size)
        self.layers = nn.ModuleList(
            DecoderLayer(config, size, scorer(), enc_output_size) for _ in range(config.layers)
        )
        self.final_norm = nn.LayerNorm(size) if config.norm == "pre" else None
        self.alignment_layer = alignment_index(config.alignment_layer, config.layers)

    @classmethod
    def attention_defaults(cls, config: ConfigBase, *, emb_size: int) -> dict[str, Any]:
        """Cross-attention as in Vaswani et al.: the decoder's heads, over the model size."""
        assert isinstance(config, TransformerDecoderConfig)
        return {"heads": config.heads, "size": config.size(emb_size)}

    @classmethod
    def query_size(cls, config: ConfigBase, *, emb_size: int) -> int:
        assert isinstance(config, TransformerDecoderConfig)
        return config.size(emb_size)

    @classmethod
    def describe(cls, config: ConfigBase) -> str:
        assert isinstance(config, TransformerDecoderConfig)
        return transformer_words(config)

    @classmethod
    def check(
        cls, config: ConfigBase, *, emb_size: int, enc_output_size: int, enc_final_size: int
    ) -> str | None:
        assert isinstance(config, TransformerDecoderConfig)
        reason = check_transformer(config, emb_size, "decoder")
        if reason is None and config.alignment_layer >= config.layers:
            reason = f"decoder alignment layer must be < its layers ({config.layers})"
        return reason

    def set_alignment_layer(self, layer: int) -> None:
        layers = len(self.layers)
        if layer >= layers:
            raise UsageError(
                f"--alignment-layer {layer}: the decoder has {layers} layers",
                fix=f"choose from -{layers} to {layers - 1}",
            )
        self.alignment_layer = alignment_index(layer, layers)

    def init_state(self, enc: EncoderOutput) -> TransformerState:
        """Each layer's scorer prepares (projects) the encoder states once."""
        states = to_autocast(enc.states)
        cross = tuple(layer.cross_attn.prepare(states, enc.pad_mask) for layer in self.layers)
        return TransformerState(cross=cross, cache=None, steps=0)

    def run(
        self,
        emb: Tensor,
        state: TransformerState,
        heads: list[Tensor] | None = None,
        *,
        keep_cache: bool = False,
    ) -> tuple[Tensor, TransformerState, Tensor]:
        """emb (B, T, E) at positions t..t+T-1 → features (B, T, d), new state, weights (B, T, S)
        of the alignment layer. keep_cache: write these positions' keys and values into the
        state's KVCache (incremental decoding) instead of attending over them only."""
        steps, start = emb.size(1), state.steps
        x = self.input(emb, start=start)  # (B, T, d)
        causal = None
        if steps > 1:
            causal = causal_mask(start + steps, emb.device)[start:]  # (T, t+T)
        keep = keep_cache or state.cache is not None
        cache = self.writable_cache(state, x, steps) if keep else None
        weights = None
        for i, layer in enumerate(self.layers):
            wanted = i == self.alignment_layer
            x, w = layer(x, cache, (i, start), state.cross[i], causal, wanted, heads)
            weights = w if wanted else weights
        if self.final_norm is not None:
            x = self.final_norm(x)
        assert weights is not None
        new = TransformerState(cross=state.cross, cache=cache, steps=start + steps)
        return x, new, weights

    def writable_cache(self, state: TransformerState, x: Tensor, steps: int) -> KVCache:
        """The state's cache, ready for `steps` more positions (allocated at the first step in
        the dtype the key/value projection produces: autocast's, else the input's)."""
        if state.cache is not None:
            return state.cache.ensure_writable(state.steps, steps)
        device = x.device.type
        dtype = torch.get_autocast_dtype(device) if torch.is_autocast_enabled(device) else x.dtype
        attn = self.layers[0].self_attn
        return KVCache.empty(
            len(self.layers), x.size(0), attn.heads, attn.head_size,
            dtype=dtype, device=x.device, capacity=max(INITIAL_CAPACITY, steps),
        )  # fmt: skip

    def step(
        self, prev_emb: Tensor, state: TransformerState
    ) -> tuple[Tensor, TransformerState, Tensor]:
        """prev_emb (N, E) → features (N, d), state with the cache one longer, weights (N, S)."""
        feat, state, weights = self.run(prev_emb.unsqueeze(1), state, keep_cache=True)
        return feat.squeeze(1), state, weights.squeeze(1)

    def attention_heads(self, tgt_emb: Tensor, state: TransformerState) -> Tensor:
        """(B, L, H, T, S): every layer's cross-attention per head, teacher-forced."""
        heads: list[Tensor] = []
        self.run(tgt_emb, state, heads)
        return torch.stack(heads, 1)

    def forward(self, tgt_emb: Tensor, state: TransformerState) -> tuple[Tensor, Tensor]:
        """Teacher-forced, all positions at once: tgt_emb (B, T, E) → (B, T, d), (B, T, S)."""
        feat, _, weights = self.run(tgt_emb, state)
        return feat, weights
