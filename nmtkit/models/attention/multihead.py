"""`multihead` scorer (Vaswani et al. 2017): scaled dot-product attention over H heads."""

from __future__ import annotations

import dataclasses
import math
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from nmtkit.config import ConfigBase, option
from nmtkit.models import ATTENTION
from nmtkit.models.base import AttentionMemory, Scorer, attention_weights


@dataclasses.dataclass(frozen=True, kw_only=True)
class MultiheadConfig(ConfigBase):
    heads: int = option(4, help="number of attention heads H")
    size: int = option(256, help="total size A of the projected queries/keys/values")

    renamed: ClassVar[dict[str, str]] = {"attention_size": "size"}  # 0.1.0 checkpoints


@ATTENTION.register("multihead", config=MultiheadConfig)
class MultiheadScorer(Scorer):
    """head_h = softmax(Q_h K_hᵀ / sqrt(A/H)) V_h;  context = W_o [head_1; …; head_H].

    Q = W_q q, K = W_k k, V = W_v k. K and V are projected once per batch in `prepare`, split
    into heads (memory.proj_keys and memory.values are (B, H, S, A/H)); `keys_values` gives
    both for new positions (the Transformer decoder's self-attention cache). The weights
    returned are averaged over heads (for alignment and plots); the context comes from the
    per-head weights.
    """

    #: Use scaled_dot_product_attention on CPU too (tests compare both paths with it).
    fused_on_cpu: ClassVar[bool] = False

    def __init__(self, config: MultiheadConfig, *, query_size: int, key_size: int) -> None:
        super().__init__(config, query_size=query_size, key_size=key_size)
        size = config.size
        self.heads = config.heads
        self.head_size = size // config.heads
        self.query_proj = nn.Linear(query_size, size)
        self.key_value_proj = nn.Linear(key_size, 2 * size)
        self.out_proj = nn.Linear(size, key_size)

    @classmethod
    def describe(cls, config: ConfigBase) -> str:
        assert isinstance(config, MultiheadConfig)
        return f"{config.heads} heads, A={config.size}"

    @classmethod
    def check(cls, config: ConfigBase, *, query_size: int, key_size: int) -> str | None:
        heads, size = config.heads, config.size  # type: ignore[attr-defined]
        if heads < 1 or size < 1 or size % heads:
            return (
                f"multihead attention size ({size}) must be a positive multiple of the number "
                f"of heads ({heads})"
            )
        return None

    def prepare(self, values: Tensor, pad_mask: Tensor | None) -> AttentionMemory:
        """Per-head keys and values, once per batch: memory.proj_keys and memory.values are
        (B, H, S, A/H)."""
        keys, vals = self.keys_values(values)
        return AttentionMemory(values=vals, pad_mask=pad_mask, proj_keys=keys)

    def keys_values(self, values: Tensor) -> Tensor:
        """values (B, T, Hk) → per-head keys ([0]) and values ([1]) as one view (2, B, H, T, A/H):
        the layout of the Transformer decoder's KVCache, so a step writes both in one copy."""
        B, T = values.shape[:2]
        kv = self.key_value_proj(values).view(B, T, 2, self.heads, self.head_size)
        return kv.permute(2, 0, 3, 1, 4)

    def split_heads(self, x: Tensor) -> Tensor:
        """(B, L, A) → (B, H, L, A/H)."""
        return x.view(x.size(0), x.size(1), self.heads, self.head_size).transpose(1, 2)

    def energies(self, query: Tensor, memory: AttentionMemory) -> Tensor:
        """Per-head energies (B, H, T, S)."""
        assert memory.proj_keys is not None
        q = self.split_heads(self.query_proj(query)) / math.sqrt(self.head_size)  # (B, H, T, d)
        return torch.matmul(q, memory.proj_keys.transpose(-1, -2))  # (B, H, T, S)

    def forward(
        self,
        query: Tensor,
        memory: AttentionMemory,
        mask: Tensor | None = None,
        *,
        need_weights: bool = True,
    ) -> tuple[Tensor, Tensor | None]:
        """query (B, T, Hq) → context (B, T, He), head-averaged weights (B, T, S).

        Without need_weights, on CUDA, the heads come from torch's fused
        scaled_dot_product_attention (same masks, same result up to rounding) and the weights
        are None. On CPU the explicit path is kept: at Transformer-tiny sizes the fused kernel
        is no faster there (benchmarks/README.md, the Transformer section).
        """
        assert memory.proj_keys is not None
        if need_weights or not (query.is_cuda or self.fused_on_cpu):
            weights = attention_weights(self.energies(query, memory), memory.pad_mask, mask)
            mix = F.dropout(weights, self.dropout_p, self.training) if self.dropout_p else weights
            heads = torch.matmul(mix.to(memory.values.dtype), memory.values)  # (B, H, T, d)
        else:
            allowed = None  # True = may look
            if memory.pad_mask is not None:
                allowed = ~memory.pad_mask[:, None, None, :]  # (B, 1, 1, S)
            if mask is not None:
                visible = ~(mask.unsqueeze(1) if mask.dim() == 3 else mask)
                allowed = visible if allowed is None else allowed & visible
            q = self.split_heads(self.query_proj(query))  # (B, H, T, d)
            heads = F.scaled_dot_product_attention(
                q.to(memory.values.dtype), memory.proj_keys, memory.values, attn_mask=allowed,
                dropout_p=self.dropout_p if self.training else 0.0,
            )  # (B, H, T, d)
            weights = None
        batch, _, steps, _ = heads.shape
        heads = heads.transpose(1, 2).reshape(batch, steps, self.heads * self.head_size)
        context = self.out_proj(heads)  # (B, T, He)
        return context, None if weights is None else weights.mean(1)  # (B, T, S)
