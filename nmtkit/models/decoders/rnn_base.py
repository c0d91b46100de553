"""Fields, checks and the RNNDecoder base of the RNN decoders (bahdanau, luong, plain)."""

from __future__ import annotations

import dataclasses

from torch import Tensor

from nmtkit.config import ConfigBase, option
from nmtkit.models.base import AttentionMemory, Decoder, EncoderOutput, Scorer
from nmtkit.models.rnn import Bridge, BridgeKind, Cell, to_autocast
from nmtkit.models.rnn_state import RNNState


@dataclasses.dataclass(frozen=True, kw_only=True)
class RNNDecoderConfig(ConfigBase):
    cell: Cell = option("lstm", help="recurrent cell type")
    layers: int = option(1, help="number of stacked recurrent layers")
    hidden_size: int = option(512, help="decoder hidden size Hd")
    dropout: float = option(0.3, help="dropout between layers and before the output layer")
    bridge: BridgeKind = option(
        "linear-tanh",
        help="initial state from the encoder summary (linear+tanh) or zeros",
    )


def rnn_words(config: RNNDecoderConfig) -> str:
    """"LSTM 2x512": cell, layers x hidden size (for `describe`)."""
    return f"{config.cell.upper()} {config.layers}x{config.hidden_size}"


def check_rnn_config(config: RNNDecoderConfig) -> str | None:
    if config.layers < 1 or config.hidden_size < 1:
        return "decoder layers and hidden size must be >= 1"
    if not 0.0 <= config.dropout < 1.0:
        return "decoder dropout must be in [0, 1)"
    return None


class RNNDecoder(Decoder):
    """Base of the RNN decoder family: the config check every RNN decoder shares."""

    @classmethod
    def check(
        cls, config: ConfigBase, *, emb_size: int, enc_output_size: int, enc_final_size: int
    ) -> str | None:
        assert isinstance(config, RNNDecoderConfig)
        return check_rnn_config(config)


def make_bridge(config: RNNDecoderConfig, enc_final_size: int) -> Bridge:
    return Bridge(
        config.bridge,
        cell=config.cell,
        in_size=enc_final_size,
        hidden_size=config.hidden_size,
        layers=config.layers,
    )


def initial_state(
    bridge: Bridge, scorer: Scorer | None, enc: EncoderOutput, input_feed: Tensor | None = None
) -> RNNState:
    """Bridge the encoder summary into (hidden, cell) and let the scorer project keys once.

    Under autocast the encoder states are cast once here, not at every step's attention.
    """
    hidden, cell = bridge(enc.final)  # (L, B, Hd)
    memory: AttentionMemory | None = None
    if scorer is not None:
        memory = scorer.prepare(to_autocast(enc.states), enc.pad_mask)
    return RNNState(hidden=hidden, memory=memory, cell=cell, input_feed=input_feed)
