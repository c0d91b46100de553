"""Label-smoothed cross-entropy in float32 over all target steps at once, padding ignored."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

from nmtkit.data.specials import PAD_ID


def label_smoothed_loss(
    logits: Tensor, target: Tensor, *, smoothing: float, pad_id: int = PAD_ID
) -> tuple[Tensor, Tensor]:
    """Summed (not averaged) smoothed loss and NLL over the non-pad tokens, both float32 scalars.

    logits (B, T, V) in any dtype (bf16 under autocast), target (B, T). Softmax runs in float32 so
    low-precision logits cannot overflow. Smoothing follows Szegedy et al. (2016) as PyTorch does:
    (1 - eps) * NLL + eps * mean over the vocabulary of -log p. Sums let the trainer normalise by
    the token count of the whole update (across batches and ranks).
    """
    vocab = logits.size(-1)
    log_probs = F.log_softmax(logits.reshape(-1, vocab).float(), dim=-1)  # (B*T, V)
    flat = target.reshape(-1)  # (B*T,)
    nll = F.nll_loss(log_probs, flat, ignore_index=pad_id, reduction="sum")
    if smoothing == 0.0:
        return nll, nll.detach()
    keep = (flat != pad_id).to(log_probs.dtype)  # (B*T,)
    uniform = -(log_probs.sum(-1) * keep).sum() / vocab
    loss = (1.0 - smoothing) * nll + smoothing * uniform
    return loss, nll.detach()
