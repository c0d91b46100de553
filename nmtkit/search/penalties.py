"""Length normalisation and the per-step token constraints shared by every strategy."""

from __future__ import annotations

import torch
from torch import Tensor

from nmtkit.data.specials import BOS_ID, EOS_ID, PAD_ID


def length_penalty(length: Tensor | int, alpha: float) -> Tensor | float:
    """GNMT length penalty lp(Y) = ((5 + |Y|) / 6) ** alpha (Wu et al. 2016, eq. 14).

    |Y| counts the target pieces including EOS. Scores are divided by lp: alpha = 0 ranks by the
    raw log-prob sum, larger alpha favours longer outputs.
    """
    if alpha == 0:
        return 1.0 if isinstance(length, int) else torch.ones_like(length, dtype=torch.float32)
    if isinstance(length, int):
        return ((5.0 + length) / 6.0) ** alpha
    return ((5.0 + length.float()) / 6.0) ** alpha


def max_target_len(src_lengths: Tensor, a: float, b: int) -> Tensor:
    """Per-sentence maximum number of target pieces (EOS excluded): floor(a * src + b).

    src_lengths (B,) counts source pieces without EOS. Returns (B,) int64.
    """
    return (src_lengths.double() * a + b).floor().long().clamp(min=0)  # (B,)


def banned_mask(vocab_size: int, device: torch.device) -> Tensor:
    """(V,) float32: -inf for ids never generated (PAD, BOS), 0 elsewhere; added to log-probs."""
    mask = torch.zeros(vocab_size, device=device)
    mask[[PAD_ID, BOS_ID]] = float("-inf")
    return mask


def constrain(
    log_probs: Tensor, *, step: int, min_len: int, at_max: Tensor, banned: Tensor
) -> Tensor:
    """Apply the step's constraints to log_probs (B', K, V) float32, in place (it is returned).

    - banned ids (PAD, BOS) are never produced;
    - EOS is impossible before `min_len` pieces;
    - sentences whose maximum length is reached (at_max (B',) bool) may only produce EOS, with
      the model's own EOS log-prob (so scores stay true log-probs).

    In place because (N', V) tensors are the largest the search touches each step.
    """
    lp = log_probs  # (B', K, V)
    rows = None
    if bool(at_max.any()):  # one cheap sync; most steps have no sentence at its maximum
        rows = at_max.nonzero().squeeze(1)  # (M,)
        eos = lp[..., EOS_ID : EOS_ID + 1].index_select(0, rows)  # (M, K, 1) before masks
    lp.add_(banned)
    if step < min_len:
        lp[..., EOS_ID] = float("-inf")
    if rows is not None:
        only_eos = torch.full_like(lp[0, 0], float("-inf"))  # (V,)
        only_eos[EOS_ID] = 0.0
        lp.index_copy_(0, rows, eos + only_eos)  # (M, K, V): EOS keeps the model's log-prob
    return lp
