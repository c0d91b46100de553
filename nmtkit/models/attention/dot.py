"""`dot` scorer (Luong et al. 2015): score(q, k) = qᵀ k."""

from __future__ import annotations

import dataclasses

import torch
from torch import Tensor, nn

from nmtkit.config import ConfigBase, option
from nmtkit.models import ATTENTION
from nmtkit.models.base import AttentionMemory, Scorer


@dataclasses.dataclass(frozen=True, kw_only=True)
class DotConfig(ConfigBase):
    project: bool = option(
        False,
        help="map the query to the key size with a linear layer (needed when the decoder "
        "and encoder sizes differ)",
    )


def size_check(config: ConfigBase, *, query_size: int, key_size: int) -> str | None:
    """Shared by dot-product scorers: equal sizes, or an explicit query projection."""
    if query_size != key_size and not config.project:  # type: ignore[attr-defined]
        return (
            f"needs decoder query size ({query_size}) == encoder output size ({key_size}); "
            "set --attention-project or make the sizes equal"
        )
    return None


@ATTENTION.register("dot", config=DotConfig)
class DotScorer(Scorer):
    """e_ts = q_t · k_s; parameter-free unless `project` adds W (Hq → He)."""

    scale = 1.0  # scaled-dot divides by sqrt(d)

    def __init__(self, config: DotConfig, *, query_size: int, key_size: int) -> None:
        super().__init__(config, query_size=query_size, key_size=key_size)
        self.query_proj = nn.Linear(query_size, key_size, bias=False) if config.project else None

    @classmethod
    def check(cls, config: ConfigBase, *, query_size: int, key_size: int) -> str | None:
        return size_check(config, query_size=query_size, key_size=key_size)

    def energies(self, query: Tensor, memory: AttentionMemory) -> Tensor:
        if self.query_proj is not None:
            query = self.query_proj(query)  # (B, T, He)
        if self.scale != 1.0:
            query = query * self.scale
        return torch.bmm(query, memory.values.transpose(1, 2))  # (B, T, S)
