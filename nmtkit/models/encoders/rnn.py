"""`rnn` encoder: (bi)directional GRU/LSTM over packed sequences, optional source reversal."""

from __future__ import annotations

import dataclasses

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from nmtkit.config import ConfigBase, option
from nmtkit.models import ENCODERS
from nmtkit.models.base import Encoder, EncoderOutput
from nmtkit.models.rnn import Cell, rnn_for, run_rnn


@dataclasses.dataclass(frozen=True, kw_only=True)
class RNNConfig(ConfigBase):
    cell: Cell = option("lstm", help="recurrent cell type")
    layers: int = option(1, help="number of stacked recurrent layers")
    hidden_size: int = option(256, help="hidden size per direction")
    bidirectional: bool = option(True, help="run a backward RNN too and concatenate both")
    dropout: float = option(0.2, help="dropout between recurrent layers and on the outputs")
    reverse_source: bool = option(
        False,
        help="feed the source tokens reversed (Sutskever et al. 2014); EOS stays last, padding "
        "untouched, states are returned in original order",
    )


def reversal_index(lengths: Tensor, seq_len: int) -> Tensor:
    """Per-row permutation reversing the pieces (positions < length-1) in place.

    The last real position (EOS) and padding keep their places. The permutation is its own
    inverse, so the same index restores original order. lengths (B,) → index (B, S).
    """
    pos = torch.arange(seq_len, device=lengths.device).unsqueeze(0)  # (1, S)
    pieces = (lengths - 1).clamp(min=0).unsqueeze(1)  # (B, 1)
    return torch.where(pos < pieces, pieces - 1 - pos, pos)  # (B, S)


def gather_time(x: Tensor, index: Tensor) -> Tensor:
    """x (B, S, D), index (B, S) → x[b, index[b, s]] (B, S, D)."""
    return x.gather(1, index.unsqueeze(-1).expand(-1, -1, x.size(-1)))


@ENCODERS.register("rnn", config=RNNConfig)
class RNNEncoder(Encoder):
    """GRU/LSTM encoder over packed sequences: padding neither costs time nor leaks into states."""

    def __init__(self, config: RNNConfig, *, emb_size: int) -> None:
        super().__init__()
        self.config = config
        self.output_size, self.final_size = self.sizes(config, emb_size=emb_size)
        self.rnn = rnn_for(config, input_size=emb_size, bidirectional=config.bidirectional)
        self.dropout = nn.Dropout(config.dropout)

    @classmethod
    def sizes(cls, config: RNNConfig, *, emb_size: int) -> tuple[int, int]:
        """(output_size He, final_size Hf), known before any tensor is allocated."""
        size = config.hidden_size * (2 if config.bidirectional else 1)
        return size, size

    @classmethod
    def describe(cls, config: ConfigBase) -> str:
        assert isinstance(config, RNNConfig)
        words = f"{'bi-' if config.bidirectional else ''}{config.cell.upper()}"
        words += f" {config.layers}x{config.hidden_size}"
        return words + (", reversed source" if config.reverse_source else "")

    @classmethod
    def check(cls, config: RNNConfig, *, emb_size: int) -> str | None:
        if config.layers < 1 or config.hidden_size < 1:
            return "encoder layers and hidden size must be >= 1"
        if not 0.0 <= config.dropout < 1.0:
            return "encoder dropout must be in [0, 1)"
        return None

    def forward(self, src_emb: Tensor, lengths: Tensor) -> EncoderOutput:
        """src_emb (B, S, E), lengths (B,) → states (B, S, He) in original order, final (B, He)."""
        seq_len = src_emb.size(1)
        index = reversal_index(lengths, seq_len) if self.config.reverse_source else None
        if index is not None:
            src_emb = gather_time(src_emb, index)  # (B, S, E)
        packed = pack_padded_sequence(
            src_emb, lengths.cpu(), batch_first=True, enforce_sorted=False
        )
        out, hidden = run_rnn(self.rnn, packed)
        states, _ = pad_packed_sequence(out, batch_first=True, total_length=seq_len)  # (B, S, He)
        if index is not None:
            states = gather_time(states, index)
        h_n = hidden[0] if isinstance(hidden, tuple) else hidden  # (L·D, B, H)
        bidirectional = self.config.bidirectional
        final = torch.cat([h_n[-2], h_n[-1]], -1) if bidirectional else h_n[-1]  # (B, He)
        pos = torch.arange(seq_len, device=lengths.device)
        pad_mask = pos.unsqueeze(0) >= lengths.unsqueeze(1)  # (B, S)
        return EncoderOutput(
            states=self.dropout(states), final=final, pad_mask=pad_mask, lengths=lengths
        )
