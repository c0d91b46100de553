"""`multihead` scorer (Vaswani et al. 2017): scaled dot-product attention over H heads."""

from __future__ import annotations

import dataclasses
import math

import torch
from torch import Tensor, nn

from nmtkit.config import ConfigBase, option
from nmtkit.models import ATTENTION
from nmtkit.models.base import AttentionMemory, Scorer


@dataclasses.dataclass(frozen=True, kw_only=True)
class MultiheadConfig(ConfigBase):
    heads: int = option(4, help="number of attention heads H")
    attention_size: int = option(256, help="total size A of the projected queries/keys/values")


@ATTENTION.register("multihead", config=MultiheadConfig)
class MultiheadScorer(Scorer):
    """head_h = softmax(Q_h K_hᵀ / sqrt(A/H)) V_h;  context = W_o [head_1; …; head_H].

    Q = W_q q, K = W_k k, V = W_v k. K and V are projected once per batch in `prepare` and kept
    side by side in `proj_keys` (B, S, 2A). The weights returned are averaged over heads (for
    alignment and plots); the context comes from the per-head weights.
    """

    def __init__(self, config: MultiheadConfig, *, query_size: int, key_size: int) -> None:
        super().__init__(config, query_size=query_size, key_size=key_size)
        size = config.attention_size
        self.heads = config.heads
        self.head_size = size // config.heads
        self.query_proj = nn.Linear(query_size, size)
        self.key_value_proj = nn.Linear(key_size, 2 * size)
        self.out_proj = nn.Linear(size, key_size)

    @classmethod
    def describe(cls, config: ConfigBase) -> str:
        assert isinstance(config, MultiheadConfig)
        return f"{config.heads} heads, A={config.attention_size}"

    @classmethod
    def check(cls, config: ConfigBase, *, query_size: int, key_size: int) -> str | None:
        heads, size = config.heads, config.attention_size  # type: ignore[attr-defined]
        if heads < 1 or size < 1 or size % heads:
            return (
                f"multihead attention size ({size}) must be a positive multiple of the number "
                f"of heads ({heads})"
            )
        return None

    def prepare(self, values: Tensor, pad_mask: Tensor) -> AttentionMemory:
        proj = self.key_value_proj(values)  # (B, S, 2A)
        return AttentionMemory(values=values, pad_mask=pad_mask, proj_keys=proj)

    def split_heads(self, x: Tensor) -> Tensor:
        """(B, L, A) → (B, H, L, A/H)."""
        return x.view(x.size(0), x.size(1), self.heads, self.head_size).transpose(1, 2)

    def energies(self, query: Tensor, memory: AttentionMemory) -> Tensor:
        """Per-head energies (B, H, T, S)."""
        assert memory.proj_keys is not None
        size = self.heads * self.head_size
        q = self.split_heads(self.query_proj(query)) / math.sqrt(self.head_size)  # (B, H, T, d)
        k = self.split_heads(memory.proj_keys[..., :size])  # (B, H, S, d)
        return torch.matmul(q, k.transpose(-1, -2))  # (B, H, T, S)

    def forward(self, query: Tensor, memory: AttentionMemory) -> tuple[Tensor, Tensor]:
        """query (B, T, Hq) → context (B, T, He), head-averaged weights (B, T, S)."""
        assert memory.proj_keys is not None
        size = self.heads * self.head_size
        energies = self.energies(query, memory).float()  # (B, H, T, S)
        energies = energies.masked_fill(memory.pad_mask[:, None, None, :], float("-inf"))
        weights = torch.softmax(energies, dim=-1)  # (B, H, T, S)
        v = self.split_heads(memory.proj_keys[..., size:])  # (B, H, S, d)
        heads = torch.matmul(weights.to(v.dtype), v)  # (B, H, T, d)
        batch, _, steps, _ = heads.shape
        heads = heads.transpose(1, 2).reshape(batch, steps, size)  # (B, T, A)
        return self.out_proj(heads), weights.mean(1)  # (B, T, He), (B, T, S)
