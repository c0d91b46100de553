"""`bahdanau` decoder (RNNsearch, Bahdanau et al. 2015).

  c_t = attend(s_{t-1}, encoder states)
  s_t = RNN([y_{t-1}; c_t], s_{t-1})
  o_t = tanh(W_o [s_t; c_t; y_{t-1}] + b_o)        (deep output, then the generator)
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
from nmtkit.models.rnn import StackedCell, to_autocast
from nmtkit.models.rnn_state import RNNState


@dataclasses.dataclass(frozen=True, kw_only=True)
class BahdanauConfig(RNNDecoderConfig):
    output_size: int | None = option(
        None, help="size of the deep-output layer fed to the generator (default: embedding size)"
    )


@DECODERS.register("bahdanau", config=BahdanauConfig)
class BahdanauDecoder(RNNDecoder):
    """Attend with the previous state, feed the context into the cell, deep output.

    Speed: the embedding part of the cell's input gates is computed once over all T; the loop
    runs only the state-dependent work (query, attention, W_c c_t, W_hh s); the deep output is
    one Linear over (B, T) after the loop.
    """

    def __init__(
        self,
        config: BahdanauConfig,
        *,
        emb_size: int,
        enc_output_size: int,
        enc_final_size: int,
        scorer: Scorer | None,
    ) -> None:
        super().__init__()
        assert scorer is not None, "the bahdanau decoder needs a scorer"
        self.config = config
        self.emb_size = emb_size
        self.scorer = scorer
        self.bridge = make_bridge(config, enc_final_size)
        self.cell = StackedCell(
            config.cell,
            input_size=emb_size + enc_output_size,
            hidden_size=config.hidden_size,
            layers=config.layers,
            dropout=config.dropout,
        )
        self.output_size = config.output_size or emb_size
        deep_in = config.hidden_size + enc_output_size + emb_size
        self.deep_output = nn.Linear(deep_in, self.output_size)
        self.dropout = nn.Dropout(config.dropout)

    @classmethod
    def check(
        cls, config: ConfigBase, *, emb_size: int, enc_output_size: int, enc_final_size: int
    ) -> str | None:
        assert isinstance(config, BahdanauConfig)
        if config.output_size is not None and config.output_size < 1:
            return "decoder output size must be >= 1"
        return super().check(
            config, emb_size=emb_size, enc_output_size=enc_output_size,
            enc_final_size=enc_final_size,
        )

    @classmethod
    def describe(cls, config: ConfigBase) -> str:
        assert isinstance(config, BahdanauConfig)
        return f"{rnn_words(config)}, attends with s_{{t-1}}, context into the cell"

    def init_state(self, enc: EncoderOutput) -> RNNState:
        return initial_state(self.bridge, self.scorer, enc)

    def context_weight(self) -> Tensor:
        """The cell's input weight columns that read c_t (G·Hd, He); see StackedCell."""
        return to_autocast(self.cell.input_weight(self.emb_size, self.cell.rnn.input_size))

    def recur(
        self, emb_gates: Tensor, context_weight: Tensor, state: RNNState
    ) -> tuple[Tensor, Tensor, Tensor]:
        """One step given the precomputed embedding gates (B, G·Hd).

        Returns s_t (B, Hd), c_t (B, He), new state, weights (B, S).
        """
        assert state.memory is not None
        query = state.hidden[-1].unsqueeze(1)  # (B, 1, Hd) = s_{t-1}, top layer
        context, weights = self.scorer(query, state.memory)  # (B, 1, He), (B, 1, S)
        context = context.squeeze(1)
        gates = emb_gates + F.linear(context, context_weight)  # (B, G·Hd)
        out, hidden, cell = self.cell.step(gates, state.hidden, state.cell)
        new_state = RNNState(hidden=hidden, memory=state.memory, cell=cell)
        return out, context, new_state, weights.squeeze(1)

    def output(self, s: Tensor, context: Tensor, emb: Tensor) -> Tensor:
        """Deep output over any leading dims: [s; c; y] → (…, Ho)."""
        deep = torch.tanh(self.deep_output(torch.cat([s, context, emb], dim=-1)))
        return self.dropout(deep)

    def step(self, prev_emb: Tensor, state: RNNState) -> tuple[Tensor, Tensor]:
        emb_gates = self.cell.input_gates(prev_emb, 0, self.emb_size)  # (B, G·Hd)
        s, context, state, weights = self.recur(emb_gates, self.context_weight(), state)
        return self.output(s, context, prev_emb), state, weights

    def forward(self, tgt_emb: Tensor, state: RNNState) -> tuple[Tensor, Tensor]:
        """tgt_emb (B, T, E) → features (B, T, Ho), weights (B, T, S)."""
        emb_gates = self.cell.input_gates(tgt_emb, 0, self.emb_size)  # (B, T, G·Hd)
        context_weight = self.context_weight()
        states, contexts, weights = [], [], []
        # unbind, not [:, t]: its backward is one stack instead of T full-size zero-fills.
        for gates_t in emb_gates.unbind(1):
            s, context, state, w = self.recur(gates_t, context_weight, state)
            states.append(s)
            contexts.append(context)
            weights.append(w)
        s_all = torch.stack(states, 1)  # (B, T, Hd)
        c_all = torch.stack(contexts, 1)  # (B, T, He)
        return self.output(s_all, c_all, tgt_emb), torch.stack(weights, 1)
