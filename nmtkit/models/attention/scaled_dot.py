"""`scaled-dot` scorer (Vaswani et al. 2017): score(q, k) = qᵀ k / sqrt(d)."""

from __future__ import annotations

import dataclasses
import math

from nmtkit.models import ATTENTION
from nmtkit.models.attention.dot import DotConfig, DotScorer


@dataclasses.dataclass(frozen=True, kw_only=True)
class ScaledDotConfig(DotConfig):
    """Same options as `dot`."""


@ATTENTION.register("scaled-dot", config=ScaledDotConfig)
class ScaledDotScorer(DotScorer):
    """e_ts = q_t · k_s / sqrt(d), d = key size: keeps energies O(1) as sizes grow."""

    def __init__(self, config: ScaledDotConfig, *, query_size: int, key_size: int) -> None:
        super().__init__(config, query_size=query_size, key_size=key_size)
        self.scale = 1.0 / math.sqrt(key_size)
