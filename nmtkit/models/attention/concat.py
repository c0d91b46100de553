"""`concat` scorer (Bahdanau et al. 2015, "additive"): score(q, k) = vᵀ tanh(W_q q + W_k k)."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import torch
from torch import Tensor, nn

from nmtkit.config import ConfigBase, option
from nmtkit.models import ATTENTION
from nmtkit.models.base import AttentionMemory, Scorer


@dataclasses.dataclass(frozen=True, kw_only=True)
class ConcatConfig(ConfigBase):
    size: int = option(256, help="size A of the hidden layer of the scoring MLP")

    renamed: ClassVar[dict[str, str]] = {"attention_size": "size"}  # 0.1.0 checkpoints


@ATTENTION.register("concat", config=ConcatConfig, aliases=("additive", "mlp"))
class ConcatScorer(Scorer):
    """Additive attention: e_ts = vᵀ tanh(W_q q_t + W_k k_s + b); any query and key sizes.

    W_k k (with the bias) is computed once per batch in `prepare`; per step only W_q q runs.
    """

    def __init__(self, config: ConcatConfig, *, query_size: int, key_size: int) -> None:
        super().__init__(config, query_size=query_size, key_size=key_size)
        self.key_proj = nn.Linear(key_size, config.size)
        self.query_proj = nn.Linear(query_size, config.size, bias=False)
        self.v = nn.Linear(config.size, 1, bias=False)

    @classmethod
    def check(cls, config: ConfigBase, *, query_size: int, key_size: int) -> str | None:
        if config.size < 1:  # type: ignore[attr-defined]
            return "attention size must be >= 1"
        return None

    @classmethod
    def describe(cls, config: ConfigBase) -> str:
        return f"additive, A={config.size}"  # type: ignore[attr-defined]

    def prepare(self, values: Tensor, pad_mask: Tensor) -> AttentionMemory:
        proj_keys = self.key_proj(values)  # (B, S, A)
        return AttentionMemory(values=values, pad_mask=pad_mask, proj_keys=proj_keys)

    def energies(self, query: Tensor, memory: AttentionMemory) -> Tensor:
        assert memory.proj_keys is not None
        q = self.query_proj(query)  # (B, T, A)
        hidden = torch.tanh(q.unsqueeze(2) + memory.proj_keys.unsqueeze(1))  # (B, T, S, A)
        return self.v(hidden).squeeze(-1)  # (B, T, S)
