"""`scaled-dot` scorer (Vaswani et al. 2017): score(q, k) = qᵀ k / sqrt(d)."""

from __future__ import annotations

import dataclasses
import math

import torch
from torch import Tensor, nn

from nmtkit.config import ConfigBase, option
from nmtkit.models import ATTENTION
from nmtkit.models.attention.dot import size_check
from nmtkit.models.base import AttentionMemory, Scorer


@dataclasses.dataclass(frozen=True, kw_only=True)
class ScaledDotConfig(ConfigBase):
    project: bool = option(
        False,
        help="map the query to the key size with a linear layer (needed when the decoder "
        "and encoder sizes differ)",
    )


@ATTENTION.register("scaled-dot", config=ScaledDotConfig)
class ScaledDotScorer(Scorer):
    """e_ts = q_t · k_s / sqrt(d), d = key size: keeps energies O(1) as sizes grow."""

    def __init__(self, config: ScaledDotConfig, *, query_size: int, key_size: int) -> None:
        super().__init__(config, query_size=query_size, key_size=key_size)
        self.query_proj = nn.Linear(query_size, key_size, bias=False) if config.project else None
        self.scale = 1.0 / math.sqrt(key_size)

    @classmethod
    def check(cls, config: ConfigBase, *, query_size: int, key_size: int) -> str | None:
        return size_check(config, query_size=query_size, key_size=key_size)

    def energies(self, query: Tensor, memory: AttentionMemory) -> Tensor:
        if self.query_proj is not None:
            query = self.query_proj(query)  # (B, T, He)
        return torch.bmm(query * self.scale, memory.values.transpose(1, 2))  # (B, T, S)
