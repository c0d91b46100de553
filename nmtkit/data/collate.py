"""Batch: padded source/target tensors with the specials the model expects.

src = pieces + [EOS]; tgt_in = [BOS] + pieces; tgt_out = pieces + [EOS]; PAD fills the rest.
Padding is done with one scatter per tensor (no per-token Python).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import torch
from torch import Tensor

from nmtkit.data.specials import BOS_ID, EOS_ID, PAD_ID


@dataclasses.dataclass(frozen=True)
class Batch:
    """A padded batch. `ids` are the sentences' indices in their split (to restore order)."""

    src: Tensor  # (B, S) int64, EOS-terminated, PAD after
    src_lengths: Tensor  # (B,) int64, including EOS
    tgt_in: Tensor | None  # (B, T) int64, BOS + pieces
    tgt_out: Tensor | None  # (B, T) int64, pieces + EOS
    ids: Tensor  # (B,) int64
    num_tgt_tokens: int = 0  # non-pad tokens in tgt_out (the loss normaliser)

    @property
    def size(self) -> int:
        return self.src.shape[0]

    @property
    def pad_mask(self) -> Tensor:
        """(B, S) bool, True at source padding."""
        return self.src == PAD_ID

    def to(self, device: torch.device | str, non_blocking: bool = False) -> Batch:
        def move(t: Tensor | None) -> Tensor | None:
            return None if t is None else t.to(device, non_blocking=non_blocking)

        return dataclasses.replace(
            self,
            src=move(self.src),
            src_lengths=move(self.src_lengths),
            tgt_in=move(self.tgt_in),
            tgt_out=move(self.tgt_out),
            ids=move(self.ids),
        )


def _pad(seqs: Sequence[Tensor], lengths: Tensor, *, first: int | None, last: int | None) -> Tensor:
    """Rows = [first] + seq + [last] (each optional), right-padded with PAD → (B, L+extra)."""
    extra = (first is not None) + (last is not None)
    b = len(seqs)
    width = int(lengths.max()) + extra if b else extra
    out = torch.full((b, width), PAD_ID, dtype=torch.int64)  # (B, W)
    flat = torch.cat([s.to(torch.int64) for s in seqs]) if b else torch.zeros(0, dtype=torch.int64)
    rows = torch.repeat_interleave(torch.arange(b), lengths)  # (M,)
    starts = torch.cumsum(lengths, 0) - lengths  # (B,)
    cols = torch.arange(len(flat)) - starts[rows] + (first is not None)  # (M,)
    out[rows, cols] = flat
    if first is not None:
        out[:, 0] = first
    if last is not None:
        out[torch.arange(b), lengths + (first is not None)] = last
    return out


def collate(src: list[Tensor], tgt: list[Tensor] | None, ids: list[int]) -> Batch:
    """Pad a list of piece tensors (no specials) into a Batch; `tgt=None` for translation."""
    src_len = torch.tensor([len(s) for s in src], dtype=torch.int64)  # (B,)
    src_t = _pad(src, src_len, first=None, last=EOS_ID)  # (B, S)
    tgt_in = tgt_out = None
    num_tgt = 0
    if tgt is not None:
        tgt_len = torch.tensor([len(t) for t in tgt], dtype=torch.int64)  # (B,)
        tgt_in = _pad(tgt, tgt_len, first=BOS_ID, last=None)  # (B, T)
        tgt_out = _pad(tgt, tgt_len, first=None, last=EOS_ID)  # (B, T)
        num_tgt = sum(len(t) for t in tgt) + len(tgt)
    return Batch(
        src=src_t,
        src_lengths=src_len + 1,
        tgt_in=tgt_in,
        tgt_out=tgt_out,
        ids=torch.as_tensor(ids, dtype=torch.int64),
        num_tgt_tokens=num_tgt,
    )
