"""An attention scorer added from outside nmtkit.

    nmtkit train DATA --save-dir D --user-dir examples/plugins/cosine.py --attention cosine

This one file is all a new scorer needs: a config, a class, a decorator.
"""

from __future__ import annotations

import dataclasses

import torch
from torch import Tensor

from nmtkit.config import ConfigBase, option
from nmtkit.models import ATTENTION
from nmtkit.models.base import AttentionMemory, Scorer


@dataclasses.dataclass(frozen=True, kw_only=True)
class CosineConfig(ConfigBase):
    temperature: float = option(0.1, help="Divide cosine similarities by this before softmax.")


@ATTENTION.register("cosine", config=CosineConfig)
class CosineScorer(Scorer):
    """score(h_t, h_s) = cos(h_t, h_s) / temperature (query and key sizes must match)."""

    needs_equal_sizes = True

    def energies(self, query: Tensor, memory: AttentionMemory) -> Tensor:
        q = torch.nn.functional.normalize(query, dim=-1)  # (B, T, H)
        k = torch.nn.functional.normalize(memory.values, dim=-1)  # (B, S, H)
        return torch.bmm(q, k.transpose(1, 2)) / self.config.temperature  # (B, T, S)
