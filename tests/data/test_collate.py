"""collate: EOS/BOS placement, padding, lengths, token count, device move."""

from __future__ import annotations

import torch

from nmtkit.data.collate import collate
from nmtkit.data.specials import BOS_ID, EOS_ID, PAD_ID


def test_collate_adds_specials_and_pads() -> None:
    src = [torch.tensor([5, 6, 7]), torch.tensor([8])]
    tgt = [torch.tensor([9]), torch.tensor([10, 11, 12, 13])]
    b = collate(src, tgt, [4, 2])
    P, E, S = PAD_ID, EOS_ID, BOS_ID
    assert b.src.tolist() == [[5, 6, 7, E], [8, E, P, P]]
    assert b.src_lengths.tolist() == [4, 2]
    assert b.tgt_in.tolist() == [[S, 9, P, P, P], [S, 10, 11, 12, 13]]
    assert b.tgt_out.tolist() == [[9, E, P, P, P], [10, 11, 12, 13, E]]
    assert b.ids.tolist() == [4, 2]
    assert b.num_tgt_tokens == 7 == int((b.tgt_out != PAD_ID).sum())
    assert b.pad_mask.tolist() == [[False] * 4, [False, False, True, True]]
    assert b.src.dtype == b.tgt_in.dtype == torch.int64


def test_collate_tgt_in_is_tgt_out_shifted() -> None:
    g = torch.Generator().manual_seed(0)
    sizes = torch.randint(0, 9, (6,), generator=g).tolist()
    seqs = [torch.randint(4, 50, (n,), generator=g) for n in sizes]
    b = collate(seqs, seqs, list(range(6)))
    shifted = b.tgt_out[:, :-1]
    assert torch.equal(b.tgt_in[:, 1:], torch.where(shifted == EOS_ID, PAD_ID, shifted))
    for row, s in enumerate(seqs):
        assert b.src[row, : len(s)].tolist() == s.tolist()
        assert int(b.src_lengths[row]) == len(s) + 1


def test_collate_without_target_and_empty_source() -> None:
    b = collate([torch.tensor([], dtype=torch.int64), torch.tensor([4, 5])], None, [0, 1])
    assert b.tgt_in is None and b.tgt_out is None and b.num_tgt_tokens == 0
    assert b.src.tolist() == [[EOS_ID, PAD_ID, PAD_ID], [4, 5, EOS_ID]]
    moved = b.to("cpu")
    assert torch.equal(moved.src, b.src) and moved.tgt_in is None
