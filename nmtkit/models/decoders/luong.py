"""`luong` decoder (Luong, Pham & Manning 2015, global attention).

  h_t  = RNN(y_{t-1}, h_{t-1})          (input feeding: RNN([y_{t-1}; h~_{t-1}], h_{t-1}))
  c_t  = attend(h_t, encoder states)
  h~_t = tanh(W_c [c_t; h_t])           (attentional hidden state → generator)
"""

from __future__ import annotations

import dataclasses

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from nmtkit.config import ConfigBase, option
from nmtkit.models import DECODERS
from nmtkit.models.base import EncoderOutput, Scorer
from nmtkit.models.decoders.rnn_base import (
    RNNDecoder,
    RNNDecoderConfig,
    initial_state,
    make_bridge,
    rnn_words,
)
from nmtkit.models.rnn import StackedCell, run_rnn, to_autocast
from nmtkit.models.rnn_state import RNNState


@dataclasses.dataclass(frozen=True, kw_only=True)
class LuongConfig(RNNDecoderConfig):
    input_feeding: bool = option(
        False,
        help="feed the previous attentional state h~_{t-1} into the cell (Luong's input "
        "feeding); off (the default) allows one fused RNN call over the whole target in "
        "training",
    )


@DECODERS.register("luong", config=LuongConfig)
class LuongDecoder(RNNDecoder):
    """RNN step first, then attend with h_t; output h~_t = tanh(W_c [c_t; h_t]).

    Without input feeding the teacher-forced forward is one nn.GRU/nn.LSTM call over all T
    plus one attention call with T queries (no Python loop at all).
    """

    def __init__(
        self,
        config: LuongConfig,
        *,
        emb_size: int,
        enc_output_size: int,
        enc_final_size: int,
        scorer: Scorer | None,
    ) -> None:
        super().__init__()
        assert scorer is not None, "the luong decoder needs a scorer"
        self.config = config
        self.emb_size = emb_size
        self.scorer = scorer
        self.bridge = make_bridge(config, enc_final_size)
        feed = config.hidden_size if config.input_feeding else 0
        self.cell = StackedCell(
            config.cell,
            input_size=emb_size + feed,
            hidden_size=config.hidden_size,
            layers=config.layers,
            dropout=config.dropout,
        )
        combined_in = enc_output_size + config.hidden_size
        self.combine = nn.Linear(combined_in, config.hidden_size, bias=False)
        self.dropout = nn.Dropout(config.dropout)
        self.output_size = config.hidden_size

    @classmethod
    def describe(cls, config: ConfigBase) -> str:
        assert isinstance(config, LuongConfig)
        feeding = ", input feeding" if config.input_feeding else ""
        return f"{rnn_words(config)}, attends with h_t{feeding}"

    def init_state(self, enc: EncoderOutput) -> RNNState:
        feed = None
        if self.config.input_feeding:
            feed = enc.states.new_zeros(enc.states.size(0), self.config.hidden_size)  # (B, Hd)
        return initial_state(self.bridge, self.scorer, enc, input_feed=feed)

    def attend(self, h: Tensor, state: RNNState) -> tuple[Tensor, Tensor]:
        """h (B, T, Hd) → features h~ (B, T, Hd) (after dropout), weights (B, T, S)."""
        assert state.memory is not None
        context, weights = self.scorer(h, state.memory)  # (B, T, He), (B, T, S)
        combined = torch.tanh(self.combine(torch.cat([context, h], dim=-1)))  # (B, T, Hd)
        return self.dropout(combined), weights

    def feed_weight(self) -> Tensor:
        """The cell's input weight columns that read h~_{t-1} (G·Hd, Hd); see StackedCell."""
        return to_autocast(self.cell.input_weight(self.emb_size, self.cell.rnn.input_size))

    def recur(
        self, emb_gates: Tensor, feed_weight: Tensor, state: RNNState
    ) -> tuple[Tensor, Tensor]:
        """Input-feeding step from precomputed embedding gates (B, G·Hd)."""
        assert state.input_feed is not None
        gates = emb_gates + F.linear(state.input_feed, feed_weight)  # (B, G·Hd)
        out, hidden, cell = self.cell.step(gates, state.hidden, state.cell)  # (B, Hd)
        feat, weights = self.attend(out.unsqueeze(1), state)  # (B, 1, Hd), (B, 1, S)
        feat = feat.squeeze(1)
        new_state = RNNState(hidden=hidden, memory=state.memory, cell=cell, input_feed=feat)
        return feat, new_state, weights.squeeze(1)

    def fused_rnn(self, emb: Tensor, state: RNNState) -> tuple[Tensor, Tensor, Tensor | None]:
        """Fused RNN over emb (B, T, E) → outputs (B, T, Hd), hidden, cell (L, B, Hd)."""
        hx = state.hidden if state.cell is None else (state.hidden, state.cell)
        out, h_n = run_rnn(self.cell.rnn, emb, hx)
        if isinstance(h_n, tuple):
            return out, h_n[0], h_n[1]
        return out, h_n, None

    def step(self, prev_emb: Tensor, state: RNNState) -> tuple[Tensor, Tensor]:
        if self.config.input_feeding:
            emb_gates = self.cell.input_gates(prev_emb, 0, self.emb_size)
            return self.recur(emb_gates, self.feed_weight(), state)
        out, hidden, cell = self.fused_rnn(prev_emb.unsqueeze(1), state)  # (B, 1, Hd)
        feat, weights = self.attend(out, state)
        new_state = RNNState(hidden=hidden, memory=state.memory, cell=cell)
        return feat.squeeze(1), new_state, weights.squeeze(1)

    def forward(self, tgt_emb: Tensor, state: RNNState) -> tuple[Tensor, Tensor]:
        """tgt_emb (B, T, E) → features (B, T, Hd), weights (B, T, S)."""
        if not self.config.input_feeding:
            out, _, _ = self.fused_rnn(tgt_emb, state)  # (B, T, Hd)
            return self.attend(out, state)
        emb_gates = self.cell.input_gates(tgt_emb, 0, self.emb_size)  # (B, T, G·Hd)
        feed_weight = self.feed_weight()
        features, weights = [], []
        for gates_t in emb_gates.unbind(1):  # unbind: one stack in backward, not T zero-fills
            feat, state, w = self.recur(gates_t, feed_weight, state)
            features.append(feat)
            weights.append(w)
        return torch.stack(features, 1), torch.stack(weights, 1)
