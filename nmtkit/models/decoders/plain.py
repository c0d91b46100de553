"""`plain` decoder: no attention (Sutskever et al. 2014 / Cho et al. 2014 style baseline).

The encoder summary, through the bridge, is the decoder's only view of the source — the
bottleneck attention was invented to remove; kept so users can measure the difference.
"""

from __future__ import annotations

import dataclasses

import torch
from torch import Tensor, nn

from nmtkit.config import ConfigBase
from nmtkit.models import DECODERS
from nmtkit.models.base import AttentionMemory, EncoderOutput, Scorer
from nmtkit.models.decoders.rnn_base import (
    RNNDecoder,
    RNNDecoderConfig,
    make_bridge,
    rnn_words,
)
from nmtkit.models.rnn import rnn_for, run_rnn
from nmtkit.models.rnn_state import RNNState


@dataclasses.dataclass(frozen=True, kw_only=True)
class PlainConfig(RNNDecoderConfig):
    pass


@DECODERS.register("plain", config=PlainConfig)
class PlainDecoder(RNNDecoder):
    """Bridge + RNN, no attention. Attention weights are returned as zeros (B, T, S).

    The state's memory carries only the source padding mask (zero-width values) so the weights
    keep their (N, S) shape through beam reordering at no cost.
    """

    uses_attention = False

    def __init__(
        self,
        config: PlainConfig,
        *,
        emb_size: int,
        enc_output_size: int,
        enc_final_size: int,
        scorer: Scorer | None,
    ) -> None:
        super().__init__()
        assert scorer is None, "the plain decoder takes no scorer"
        self.config = config
        self.bridge = make_bridge(config, enc_final_size)
        self.rnn = rnn_for(config, input_size=emb_size)
        self.dropout = nn.Dropout(config.dropout)
        self.output_size = config.hidden_size

    @classmethod
    def query_size(cls, config: ConfigBase, *, emb_size: int) -> int:
        return 0

    @classmethod
    def describe(cls, config: ConfigBase) -> str:
        assert isinstance(config, PlainConfig)
        return f"{rnn_words(config)}, no attention"

    def init_state(self, enc: EncoderOutput) -> RNNState:
        hidden, cell = self.bridge(enc.final)  # (L, B, Hd)
        memory = AttentionMemory(values=enc.states[:, :, :0], pad_mask=enc.pad_mask)  # (B, S, 0)
        return RNNState(hidden=hidden, memory=memory, cell=cell)

    def run(self, emb: Tensor, state: RNNState) -> tuple[Tensor, Tensor]:
        """emb (B, T, E) → features (B, T, Hd), new state, zero weights (B, T, S)."""
        assert state.memory is not None
        hx = state.hidden if state.cell is None else (state.hidden, state.cell)
        out, h_n = run_rnn(self.rnn, emb, hx)  # (B, T, Hd)
        hidden, cell = h_n if isinstance(h_n, tuple) else (h_n, None)
        pad_mask = state.memory.pad_mask  # (B, S)
        weights = out.new_zeros(emb.size(0), emb.size(1), pad_mask.size(1), dtype=torch.float32)
        new_state = RNNState(hidden=hidden, memory=state.memory, cell=cell)
        return self.dropout(out), new_state, weights

    def step(self, prev_emb: Tensor, state: RNNState) -> tuple[Tensor, Tensor]:
        feat, state, weights = self.run(prev_emb.unsqueeze(1), state)
        return feat.squeeze(1), state, weights.squeeze(1)

    def forward(self, tgt_emb: Tensor, state: RNNState) -> tuple[Tensor, Tensor]:
        feat, _, weights = self.run(tgt_emb, state)
        return feat, weights
