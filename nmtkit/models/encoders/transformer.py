"""`transformer` encoder (Vaswani et al. 2017): self-attention layers over the whole source."""

from __future__ import annotations

import dataclasses

import torch
from torch import Tensor, nn

from nmtkit.config import ConfigBase
from nmtkit.models import ENCODERS
from nmtkit.models.base import Encoder, EncoderOutput
from nmtkit.models.transformer_layers import (
    EncoderLayer,
    InputLayer,
    TransformerConfig,
    check_transformer,
    transformer_words,
)


@dataclasses.dataclass(frozen=True, kw_only=True)
class TransformerEncoderConfig(TransformerConfig):
    """Options of the Transformer encoder (see models/transformer_layers.py)."""


@ENCODERS.register("transformer", config=TransformerEncoderConfig)
class TransformerEncoder(Encoder):
    """L × (self-attention, feed-forward) over scaled embeddings + positions.

    `final` (for RNN decoders' bridges) is the mean of the output states over real tokens.
    Padding is masked in every self-attention, so outputs at real positions do not depend on
    how much padding a batch has.
    """

    def __init__(self, config: TransformerEncoderConfig, *, emb_size: int) -> None:
        super().__init__()
        self.config = config
        self.output_size, self.final_size = self.sizes(config, emb_size=emb_size)
        size = self.output_size
        self.input = InputLayer(config, emb_size)
        self.layers = nn.ModuleList(EncoderLayer(config, size) for _ in range(config.layers))
        self.final_norm = nn.LayerNorm(size) if config.norm == "pre" else None

    @classmethod
    def sizes(cls, config: TransformerEncoderConfig, *, emb_size: int) -> tuple[int, int]:
        size = config.size(emb_size)
        return size, size

    @classmethod
    def describe(cls, config: ConfigBase) -> str:
        assert isinstance(config, TransformerEncoderConfig)
        return transformer_words(config)

    @classmethod
    def check(cls, config: TransformerEncoderConfig, *, emb_size: int) -> str | None:
        return check_transformer(config, emb_size, "encoder")

    def forward(self, src_emb: Tensor, lengths: Tensor) -> EncoderOutput:
        """src_emb (B, S, E), lengths (B,) → states (B, S, d), final (B, d)."""
        pos = torch.arange(src_emb.size(1), device=lengths.device)
        pad_mask = pos.unsqueeze(0) >= lengths.unsqueeze(1)  # (B, S)
        x = self.input(src_emb)  # (B, S, d)
        for layer in self.layers:
            x = layer(x, pad_mask)
        if self.final_norm is not None:
            x = self.final_norm(x)
        real = (~pad_mask).unsqueeze(2).to(x.dtype)  # (B, S, 1)
        final = (x * real).sum(1) / lengths.unsqueeze(1).to(x.dtype)  # (B, d)
        return EncoderOutput(states=x, final=final, pad_mask=pad_mask, lengths=lengths)
