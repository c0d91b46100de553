"""`location` scorer (Luong et al. 2015): a_t = softmax(W_a h_t), from the decoder state alone."""

from __future__ import annotations

import dataclasses

import torch
from torch import Tensor, nn

from nmtkit.config import ConfigBase, option
from nmtkit.models import ATTENTION
from nmtkit.models.base import AttentionMemory, Scorer


@dataclasses.dataclass(frozen=True, kw_only=True)
class LocationConfig(ConfigBase):
    max_source_len: int = option(
        256,
        help="number of source positions W_a scores; later positions share the last "
        "position's score",
    )


@ATTENTION.register("location", config=LocationConfig)
class LocationScorer(Scorer):
    """e_ts = (W_a q_t)_s: one learned score per source position, ignoring the keys.

    W_a has `max_source_len` rows; positions beyond it reuse the last row (clamped) rather than
    failing mid-translation. Padding is masked by the base class as for every scorer.
    """

    def __init__(self, config: LocationConfig, *, query_size: int, key_size: int) -> None:
        super().__init__(config, query_size=query_size, key_size=key_size)
        self.position_proj = nn.Linear(query_size, config.max_source_len)

    @classmethod
    def check(cls, config: ConfigBase, *, query_size: int, key_size: int) -> str | None:
        if config.max_source_len < 1:  # type: ignore[attr-defined]
            return "location attention needs --attention-max-source-len >= 1"
        return None

    def energies(self, query: Tensor, memory: AttentionMemory) -> Tensor:
        scores = self.position_proj(query)  # (B, T, Lmax)
        src_len = memory.pad_mask.size(1)
        if src_len <= scores.size(-1):
            return scores[..., :src_len]  # (B, T, S)
        pos = torch.arange(src_len, device=query.device).clamp(max=scores.size(-1) - 1)
        return scores.index_select(-1, pos)  # (B, T, S)
