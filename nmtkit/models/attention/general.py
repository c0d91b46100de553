"""`general` scorer (Luong et al. 2015, "multiplicative"): score(q, k) = qᵀ W k."""

from __future__ import annotations

import dataclasses

import torch
from torch import Tensor, nn

from nmtkit.config import ConfigBase, option
from nmtkit.models import ATTENTION
from nmtkit.models.base import AttentionMemory, Scorer


@dataclasses.dataclass(frozen=True, kw_only=True)
class GeneralConfig(ConfigBase):
    bias: bool = option(False, help="add a bias to W k (a per-position prior through q)")


@ATTENTION.register("general", config=GeneralConfig, aliases=("bilinear", "multiplicative"))
class GeneralScorer(Scorer):
    """e_ts = q_t · (W k_s); W (He → Hq) is applied to the keys once per batch in `prepare`."""

    def __init__(self, config: GeneralConfig, *, query_size: int, key_size: int) -> None:
        super().__init__(config, query_size=query_size, key_size=key_size)
        self.key_proj = nn.Linear(key_size, query_size, bias=config.bias)

    def prepare(self, values: Tensor, pad_mask: Tensor) -> AttentionMemory:
        proj_keys = self.key_proj(values)  # (B, S, Hq)
        return AttentionMemory(values=values, pad_mask=pad_mask, proj_keys=proj_keys)

    def energies(self, query: Tensor, memory: AttentionMemory) -> Tensor:
        assert memory.proj_keys is not None
        return torch.bmm(query, memory.proj_keys.transpose(1, 2))  # (B, T, S)
