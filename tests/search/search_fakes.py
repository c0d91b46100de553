"""A tiny deterministic model implementing the decode protocol, so search is tested alone."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from nmtkit.data.specials import EOS_ID, PAD_ID
from nmtkit.models.base import AttentionMemory, EncoderOutput
from nmtkit.models.rnn_state import RNNState


class FakeModel:
    """Embeddings + tanh recurrence + dot attention; fixed random weights from `seed`.

    `scale` sharpens the output distribution; `eos_bias` makes EOS likelier so outputs are short.
    """

    def __init__(
        self,
        vocab: int = 12,
        hidden: int = 8,
        seed: int = 0,
        scale: float = 3.0,
        eos_bias: float = 0.5,
    ) -> None:
        g = torch.Generator().manual_seed(seed)
        self.vocab = vocab
        self.emb = torch.randn(vocab, hidden, generator=g)
        self.w = torch.randn(hidden, hidden, generator=g) / math.sqrt(hidden)
        self.out = torch.randn(hidden, vocab, generator=g) * scale / math.sqrt(hidden)
        self.bias = torch.zeros(vocab)
        self.bias[EOS_ID] = eos_bias

    def encode(self, src: Tensor, src_lengths: Tensor) -> EncoderOutput:
        pad_mask = src == PAD_ID  # (B, S)
        states = self.emb[src].masked_fill(pad_mask.unsqueeze(2), 0.0)  # (B, S, H)
        final = states.sum(1) / src_lengths.unsqueeze(1).float()  # (B, H)
        return EncoderOutput(states=states, final=final, pad_mask=pad_mask, lengths=src_lengths)

    def init_state(self, enc: EncoderOutput) -> RNNState:
        memory = AttentionMemory(values=enc.states, pad_mask=enc.pad_mask)
        return RNNState(hidden=torch.tanh(enc.final).unsqueeze(0), memory=memory)

    def decode_step(self, prev: Tensor, state: RNNState) -> tuple[Tensor, RNNState, Tensor]:
        h = torch.tanh(state.hidden[0] @ self.w + self.emb[prev])  # (N, H)
        mem = state.memory
        energies = torch.bmm(mem.values, h.unsqueeze(2)).squeeze(2)  # (N, S)
        weights = torch.softmax(energies.masked_fill(mem.pad_mask, float("-inf")), 1)
        ctx = torch.bmm(weights.unsqueeze(1), mem.values).squeeze(1)  # (N, H)
        logits = (h + ctx) @ self.out + self.bias  # (N, V)
        new = RNNState(hidden=h.unsqueeze(0), memory=mem)
        return torch.log_softmax(logits.float(), 1), new, weights


def make_batch(sentences: list[list[int]]) -> tuple[Tensor, Tensor]:
    """Pieces → (src (B, S) with EOS and PAD, src_lengths (B,) including EOS)."""
    lengths = torch.tensor([len(s) + 1 for s in sentences])
    src = torch.full((len(sentences), int(lengths.max())), PAD_ID)
    for i, s in enumerate(sentences):
        src[i, : len(s) + 1] = torch.tensor([*s, EOS_ID])
    return src, lengths


def force_score(model: FakeModel, sentence: list[int], target: list[int]) -> float:
    """Summed log-prob of target + EOS given sentence, one step at a time (the reference)."""
    from nmtkit.data.specials import BOS_ID

    src, lengths = make_batch([sentence])
    state = model.init_state(model.encode(src, lengths))
    prev, total = BOS_ID, 0.0
    for tok in [*target, EOS_ID]:
        lp, state, _ = model.decode_step(torch.tensor([prev]), state)
        total += float(lp[0, tok])
        prev = tok
    return total


def random_sentences(n: int, vocab: int, seed: int, max_len: int = 7) -> list[list[int]]:
    g = torch.Generator().manual_seed(seed)
    lengths = torch.randint(1, max_len + 1, (n,), generator=g).tolist()
    return [torch.randint(4, vocab, (k,), generator=g).tolist() for k in lengths]
