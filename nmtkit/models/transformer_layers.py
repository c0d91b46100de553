"""Transformer building blocks shared by the encoder and the decoder (Vaswani et al. 2017).

Self-attention is the registry's `multihead` scorer (models/attention/multihead.py): the same
masking and float32 softmax as every cross-attention, with torch's fused
scaled_dot_product_attention when the weights are not needed. Pre-norm (the default; stable
without warm-up tricks, Xiong et al. 2020) or post-norm (the original paper) residual blocks.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from nmtkit.config import ConfigBase, option
from nmtkit.models.attention.multihead import MultiheadConfig, MultiheadScorer
from nmtkit.models.base import AttentionMemory, Scorer
from nmtkit.models.kv_cache import KVCache

Norm = Literal["pre", "post"]
Positions = Literal["sinusoidal", "learned"]
Activation = Literal["relu", "gelu"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class TransformerConfig(ConfigBase):
    """Fields shared by the Transformer encoder and decoder (each registers its own subclass)."""

    layers: int = option(3, help="number of Transformer layers")
    model_size: int | None = option(
        None, help="model size d (default: the embedding size; else a projection is added)"
    )
    heads: int = option(4, help="self-attention heads (model size must divide by it)")
    ffn_size: int = option(1024, help="inner size of the position-wise feed-forward layers")
    dropout: float = option(0.1, help="dropout on embeddings+positions and every residual branch")
    attention_dropout: float = option(0.1, help="dropout on attention weights")
    activation_dropout: float = option(0.0, help="dropout after the feed-forward activation")
    norm: Norm = option("pre", help="layer norm before each block (pre) or after the residual")
    positions: Positions = option("sinusoidal", help="position encodings: fixed or learned")
    max_positions: int = option(1024, help="longest sequence learned positions cover")
    activation: Activation = option("relu", help="feed-forward activation")
    scale_embeddings: bool = option(True, help="multiply embeddings by sqrt(d) (Vaswani et al.)")

    def size(self, emb_size: int) -> int:
        return self.model_size or emb_size


def transformer_words(config: TransformerConfig) -> str:
    """In words, for the model line `nmtkit train` prints: "3 layers, d 256, 4 heads, ..."."""
    size = config.model_size or "= emb size"
    return (f"{config.layers} layers, d {size}, {config.heads} heads, ffn "
            f"{config.ffn_size}, {config.norm}-norm, {config.positions} positions")  # fmt: skip


def check_transformer(config: TransformerConfig, emb_size: int, kind: str) -> str | None:
    size = config.size(emb_size)
    if config.layers < 1 or size < 1 or config.ffn_size < 1 or config.max_positions < 1:
        return f"{kind} layers, model size, ffn size and max positions must be >= 1"
    if config.heads < 1 or size % config.heads:
        return f"{kind} model size ({size}) must be a positive multiple of heads ({config.heads})"
    rates = (config.dropout, config.attention_dropout, config.activation_dropout)
    if not all(0.0 <= p < 1.0 for p in rates):
        return f"{kind} dropout rates must be in [0, 1)"
    return None


def sinusoidal(positions: Tensor, size: int) -> Tensor:
    """positions (T,) → (T, d): sin on even, cos on odd features (Vaswani et al. §3.5)."""
    half = torch.arange(0, size, 2, device=positions.device, dtype=torch.float32)
    freq = torch.exp(half * (-math.log(10000.0) / size))  # (d/2,)
    angles = positions.float().unsqueeze(1) * freq  # (T, d/2)
    table = torch.zeros(positions.size(0), size, device=positions.device)
    table[:, 0::2] = torch.sin(angles)
    table[:, 1::2] = torch.cos(angles)[:, : size // 2]
    return table


class InputLayer(nn.Module):
    """Embeddings (B, T, E) → scaled, projected to d, plus positions, dropout → (B, T, d)."""

    def __init__(self, config: TransformerConfig, emb_size: int) -> None:
        super().__init__()
        self.size = config.size(emb_size)
        self.scale = math.sqrt(emb_size) if config.scale_embeddings else 1.0
        self.proj = nn.Linear(emb_size, self.size, bias=False) if self.size != emb_size else None
        self.learned = None
        if config.positions == "learned":
            self.learned = nn.Embedding(config.max_positions, self.size)
            nn.init.normal_(self.learned.weight, std=self.size**-0.5)
        self.dropout = nn.Dropout(config.dropout)
        self._sinusoids: Tensor | None = None  # (positions, d), see `sinusoids`

    def forward(self, emb: Tensor, start: int = 0) -> Tensor:
        """emb (B, T, E) for positions start..start+T-1 → (B, T, d)."""
        x = emb * self.scale
        if self.proj is not None:
            x = self.proj(x)
        end = start + emb.size(1)
        if self.learned is not None:
            pos = torch.arange(start, end, device=emb.device)  # (T,)
            table = self.learned(pos.clamp(max=self.learned.num_embeddings - 1))
        else:
            table = self.sinusoids(end, emb.device)[start:end]
        return self.dropout(x + table.to(x.dtype))  # (B, T, d)

    def sinusoids(self, length: int, device: torch.device) -> Tensor:
        """The fixed float32 table (>= length, d), computed once and grown by doubling, so a
        decoding step only slices it. A plain attribute, not a buffer: it is no part of the
        checkpoint, and it is made outside inference mode so training may use it after
        translation did."""
        table = self._sinusoids
        if table is None or table.size(0) < length or table.device != device:
            rows = max(length, 2 * table.size(0) if table is not None else 64)
            with torch.inference_mode(False):
                table = sinusoidal(torch.arange(rows, device=device), self.size)
            self._sinusoids = table
        return table


class FeedForward(nn.Module):
    """Position-wise FFN: W_2 act(W_1 x), with dropout after the activation."""

    def __init__(self, config: TransformerConfig, size: int) -> None:
        super().__init__()
        self.inner = nn.Linear(size, config.ffn_size)
        self.outer = nn.Linear(config.ffn_size, size)
        self.act = F.gelu if config.activation == "gelu" else F.relu
        self.dropout = nn.Dropout(config.activation_dropout)

    def forward(self, x: Tensor) -> Tensor:
        return self.outer(self.dropout(self.act(self.inner(x))))  # (B, T, d)


class Residual(nn.Module):
    """x + dropout(f(norm(x))) (pre-norm) or norm(x + dropout(f(x))) (post-norm)."""

    def __init__(self, config: TransformerConfig, size: int) -> None:
        super().__init__()
        self.pre = config.norm == "pre"
        self.norm = nn.LayerNorm(size)
        self.dropout = nn.Dropout(config.dropout)

    def inner(self, x: Tensor) -> Tensor:
        """The input the sublayer sees."""
        return self.norm(x) if self.pre else x

    def outer(self, x: Tensor, branch: Tensor) -> Tensor:
        """Combine the residual stream with the sublayer's output."""
        out = x + self.dropout(branch)
        return out if self.pre else self.norm(out)


def self_attention(config: TransformerConfig, size: int) -> MultiheadScorer:
    scorer = MultiheadScorer(
        MultiheadConfig(heads=config.heads, size=size), query_size=size, key_size=size
    )
    scorer.dropout_p = config.attention_dropout
    return scorer


class EncoderLayer(nn.Module):
    """Self-attention over the source (padding masked), then the feed-forward block."""

    def __init__(self, config: TransformerConfig, size: int) -> None:
        super().__init__()
        self.self_attn = self_attention(config, size)
        self.attn_block = Residual(config, size)
        self.ffn = FeedForward(config, size)
        self.ffn_block = Residual(config, size)

    def forward(self, x: Tensor, pad_mask: Tensor) -> Tensor:
        """x (B, S, d), pad_mask (B, S) → (B, S, d)."""
        h = self.attn_block.inner(x)
        context, _ = self.self_attn(h, self.self_attn.prepare(h, pad_mask), need_weights=False)
        x = self.attn_block.outer(x, context)
        return self.ffn_block.outer(x, self.ffn(self.ffn_block.inner(x)))


class DecoderLayer(nn.Module):
    """Causal self-attention, cross-attention (any registry scorer), feed-forward.

    The cross-attention scorer returns contexts of the encoder's size He; a linear layer maps
    them to d when He != d.
    """

    def __init__(self, config: TransformerConfig, size: int, cross: Scorer, enc_size: int) -> None:
        super().__init__()
        self.self_attn = self_attention(config, size)
        self.self_block = Residual(config, size)
        self.cross_attn = cross
        self.cross_attn.dropout_p = config.attention_dropout
        self.cross_proj = nn.Linear(enc_size, size) if enc_size != size else None
        self.cross_block = Residual(config, size)
        self.ffn = FeedForward(config, size)
        self.ffn_block = Residual(config, size)

    def forward(
        self,
        x: Tensor,
        cache: KVCache | None,
        position: tuple[int, int],
        cross_memory: AttentionMemory,
        causal: Tensor | None,
        need_weights: bool,
        heads: list[Tensor] | None = None,
    ) -> tuple[Tensor, Tensor | None]:
        """x (B, T, d) at positions t0..t0+T-1, position = (this layer's index, t0); cache: the
        decoder's KVCache holding positions 0..t0-1, where this layer writes its new keys and
        values (None: teacher-forced from t0 = 0, nothing kept); causal (T, t0+T) or None when
        T = 1.

        Returns (B, T, d) and the cross-attention weights (B, T, S), or None unless
        need_weights. `heads`, when given, collects every head's cross-attention weights
        (B, H, T, S).
        """
        h = self.self_block.inner(x)
        kv = self.self_attn.keys_values(h)  # (2, B, H, T, d/H)
        if cache is not None:
            layer, start = position
            cache.write(layer, start, kv)
            kv = cache.keys_values(layer, start + h.size(1))  # (B, H, t0+T, d/H) each
        own = AttentionMemory(values=kv[1], pad_mask=None, proj_keys=kv[0])
        context, _ = self.self_attn(h, own, causal, need_weights=False)
        x = self.self_block.outer(x, context)
        h = self.cross_block.inner(x)
        if heads is not None:
            heads.append(self.cross_attn.head_weights(h, cross_memory))
        context, weights = self.cross_attn(h, cross_memory, need_weights=need_weights)
        if self.cross_proj is not None:
            context = self.cross_proj(context)
        x = self.cross_block.outer(x, context)
        return self.ffn_block.outer(x, self.ffn(self.ffn_block.inner(x))), weights


def causal_mask(steps: int, device: torch.device) -> Tensor:
    """(T, T) True above the diagonal: position t may not look at later positions."""
    return torch.ones(steps, steps, dtype=torch.bool, device=device).triu(1)
