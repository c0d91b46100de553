"""RNN helpers shared by encoders and decoders: cell factory, bridge, and a stepping cell.

Step-by-step decoders (Bahdanau, Luong with input feeding) cannot use one fused `nn.GRU` call
over all T, but most of the cell's input-to-hidden work does not depend on the recurrent state.
`StackedCell` therefore keeps the parameters of an ordinary `nn.GRU`/`nn.LSTM` (so the fused
path and the step path share weights exactly) and splits layer 0's input projection: the part
that reads target embeddings is computed once over (B, T), only the rest runs per step.
"""

from __future__ import annotations

from typing import Literal, Protocol

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.func import functional_call
from torch.nn.utils.rnn import PackedSequence

Cell = Literal["gru", "lstm"]
BridgeKind = Literal["linear-tanh", "zeros"]


def make_rnn(
    cell: Cell,
    *,
    input_size: int,
    hidden_size: int,
    layers: int,
    dropout: float,
    bidirectional: bool = False,
) -> nn.RNNBase:
    """A batch-first nn.GRU / nn.LSTM; dropout applies between layers only (as in PyTorch)."""
    cls = nn.GRU if cell == "gru" else nn.LSTM
    return cls(
        input_size,
        hidden_size,
        num_layers=layers,
        dropout=dropout if layers > 1 else 0.0,
        bidirectional=bidirectional,
        batch_first=True,
    )


class RNNSizes(Protocol):
    """The config fields that size a recurrent stack (encoder and RNN decoder configs have them)."""

    cell: Cell
    hidden_size: int
    layers: int
    dropout: float


def rnn_for(config: RNNSizes, *, input_size: int, bidirectional: bool = False) -> nn.RNNBase:
    """make_rnn sized by a component's config."""
    return make_rnn(
        config.cell,
        input_size=input_size,
        hidden_size=config.hidden_size,
        layers=config.layers,
        dropout=config.dropout,
        bidirectional=bidirectional,
    )


def autocast_dtype(device_type: str) -> torch.dtype | None:
    """The lower-precision dtype if autocast is active for this device type, else None."""
    if torch.is_autocast_enabled(device_type):
        return torch.get_autocast_dtype(device_type)
    return None


def to_autocast(x: Tensor) -> Tensor:
    """Cast once to the autocast dtype (if active), so per-step ops do not re-cast every step.

    Autocast caches casts only for leaf parameters; activations and weight views used inside a
    step loop would otherwise be converted again at every step.
    """
    dtype = autocast_dtype(x.device.type)
    return x if dtype is None or not x.is_floating_point() else x.to(dtype)


RNNInput = Tensor | PackedSequence
RNNState = Tensor | tuple[Tensor, Tensor]


def run_rnn(rnn: nn.RNNBase, inputs: RNNInput, hx: RNNState | None = None):
    """`rnn(inputs, hx)`, but in the autocast dtype when autocast is active.

    PyTorch's autocast leaves nn.GRU/nn.LSTM in float32 on CPU; bf16 weights (cast with
    autograd, so gradients still reach the float32 parameters) run faster there.
    """
    device_type = rnn.weight_hh_l0.device.type
    dtype = autocast_dtype(device_type)
    if dtype is None:
        return rnn(inputs, hx)
    params = {name: p.to(dtype) for name, p in rnn.named_parameters()}
    if isinstance(inputs, PackedSequence):
        inputs = inputs._replace(data=inputs.data.to(dtype))
    else:
        inputs = inputs.to(dtype)
    if hx is not None:
        hx = tuple(h.to(dtype) for h in hx) if isinstance(hx, tuple) else hx.to(dtype)
    with torch.autocast(device_type, enabled=False):
        result = functional_call(rnn, params, (inputs, hx))
    if hasattr(rnn, "_update_flat_weights"):  # drop the cached bf16 weights (and their graph)
        rnn._update_flat_weights()
    return result


class StackedCell(nn.Module):
    """One step of a multi-layer GRU/LSTM; the caller supplies layer 0's input projection.

    The weights live in `self.rnn` (a regular nn.GRU/nn.LSTM), so `self.rnn(x)` over a whole
    sequence and a loop of `step` calls compute the same function. Gate layouts follow PyTorch:
    GRU rows (r, z, n), LSTM rows (i, f, g, o).
    """

    def __init__(
        self, cell: Cell, *, input_size: int, hidden_size: int, layers: int, dropout: float
    ) -> None:
        super().__init__()
        self.cell = cell
        self.layers = layers
        self.hidden_size = hidden_size
        self.dropout = dropout if layers > 1 else 0.0
        self.rnn = make_rnn(
            cell, input_size=input_size, hidden_size=hidden_size, layers=layers, dropout=dropout
        )

    def input_weight(self, start: int, stop: int) -> Tensor:
        """Columns [start, stop) of layer 0's input weight (G·H, stop-start).

        Take the view once per forward, outside step loops: slicing a parameter inside the loop
        would make autograd allocate and accumulate a full-size weight gradient every step.
        """
        return self.rnn.weight_ih_l0[:, start:stop]

    def input_gates(self, x: Tensor, start: int, stop: int) -> Tensor:
        """Layer-0 input projection with bias of input columns [start, stop): x (…, ·) → (…, G·H).

        Call it once over (B, T, ·) for state-independent inputs (embeddings); add
        `F.linear(part, input_weight(...))` per step for state-dependent ones (context, feed).
        """
        return F.linear(x, self.input_weight(start, stop), self.rnn.bias_ih_l0)

    def step(
        self, gates0: Tensor, hidden: Tensor, cell: Tensor | None
    ) -> tuple[Tensor, Tensor, Tensor | None]:
        """gates0 (B, G·H) layer-0 gates, hidden/cell (L, B, H) → top output (B, H), states."""
        new_h, new_c = [], []
        gates_in = gates0
        out = gates0  # replaced in the loop
        for layer in range(self.layers):
            if layer > 0:
                below = F.dropout(out, self.dropout, self.training)
                w_ih = getattr(self.rnn, f"weight_ih_l{layer}")
                gates_in = F.linear(below, w_ih, getattr(self.rnn, f"bias_ih_l{layer}"))
            w_hh = getattr(self.rnn, f"weight_hh_l{layer}")
            gates_h = F.linear(hidden[layer], w_hh, getattr(self.rnn, f"bias_hh_l{layer}"))
            if self.cell == "gru":
                out = gru_update(gates_in, gates_h, hidden[layer])
            else:
                assert cell is not None
                out, c = lstm_update(gates_in + gates_h, cell[layer])
                new_c.append(c)
            new_h.append(out)
        hidden = torch.stack(new_h) if self.layers > 1 else new_h[0].unsqueeze(0)  # (L, B, H)
        if self.cell == "lstm":
            cell = torch.stack(new_c) if self.layers > 1 else new_c[0].unsqueeze(0)  # (L, B, H)
        return out, hidden, cell


def gru_update(gates_in: Tensor, gates_h: Tensor, h: Tensor) -> Tensor:
    """PyTorch's GRU equations: gates_in = W_i x + b_i, gates_h = W_h h + b_h, both (B, 3H).

    `split` rather than slicing: its backward is one concatenation, not a zero-filled buffer
    per slice.
    """
    size = h.size(-1)
    in_rz, in_n = gates_in.split([2 * size, size], dim=1)
    h_rz, h_n = gates_h.split([2 * size, size], dim=1)
    r, z = torch.sigmoid(in_rz + h_rz).chunk(2, dim=1)  # (B, H) each
    n = torch.tanh(in_n + r * h_n)  # (B, H)
    return n + z * (h - n)  # (1 - z) n + z h


def lstm_update(gates: Tensor, c: Tensor) -> tuple[Tensor, Tensor]:
    """PyTorch's LSTM equations; gates (B, 4H) in (i, f, g, o) order → (h, c), each (B, H)."""
    i, f, g, o = gates.chunk(4, dim=1)
    c_new = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    h_new = torch.sigmoid(o) * torch.tanh(c_new)
    return h_new, c_new


class Bridge(nn.Module):
    """Initial decoder state from the encoder summary: linear+tanh, or zeros.

    For LSTM decoders the same layer also produces the initial cell state.
    """

    def __init__(
        self, kind: BridgeKind, *, cell: Cell, in_size: int, hidden_size: int, layers: int
    ) -> None:
        super().__init__()
        self.kind = kind
        self.layers = layers
        self.hidden_size = hidden_size
        self.parts = 2 if cell == "lstm" else 1
        self.proj = (
            nn.Linear(in_size, self.parts * layers * hidden_size) if kind == "linear-tanh" else None
        )

    def forward(self, final: Tensor) -> tuple[Tensor, Tensor | None]:
        """final (B, Hf) → hidden (L, B, Hd), cell (L, B, Hd) | None."""
        batch = final.size(0)
        if self.proj is None:
            zeros = final.new_zeros(self.layers, batch, self.hidden_size)  # (L, B, Hd)
            return zeros, (zeros if self.parts == 2 else None)
        states = torch.tanh(self.proj(final))  # (B, P·L·Hd)
        states = states.view(batch, self.parts, self.layers, self.hidden_size)
        states = states.permute(1, 2, 0, 3)  # (P, L, B, Hd)
        hidden = states[0].contiguous()
        cell = states[1].contiguous() if self.parts == 2 else None
        return hidden, cell
