"""Label-smoothed cross-entropy in float32 over all target steps at once, padding ignored.

A custom autograd function rather than log_softmax + nll: the forward computes the softmax once,
in place in a float32 copy of the logits, and the backward reuses those probabilities
(gradient = p - q for the smoothed target distribution q). That is one exp pass instead of two
and one (N, V) float32 buffer instead of about four, which matters: the (B·T, V) tensors of the
vocabulary projection are the largest of a training step (time and peak memory).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from nmtkit.data.specials import PAD_ID


class _SmoothedCrossEntropy(torch.autograd.Function):
    """logits (N, V), target (N,) → (summed smoothed loss, summed NLL), float32 scalars."""

    @staticmethod
    def forward(ctx: Any, logits: Tensor, target: Tensor, smoothing: float, pad_id: int):
        vocab = logits.size(-1)
        probs = logits.to(torch.float32, copy=True)  # (N, V) becomes softmax in place
        keep = (target != pad_id).to(torch.float32)  # (N,)
        index = target.masked_fill(target == pad_id, 0).unsqueeze(1)  # (N, 1)
        target_logit = probs.gather(1, index).squeeze(1)  # (N,)
        logit_sum = probs.sum(-1)  # (N,)
        top = probs.amax(-1, keepdim=True)  # (N, 1)
        probs.sub_(top).exp_()
        norm = probs.sum(-1, keepdim=True)  # (N, 1)
        probs.div_(norm)
        lse = (top + norm.log()).squeeze(1)  # (N,) log-sum-exp of each row
        nll = ((lse - target_logit) * keep).sum()
        uniform = ((lse * vocab - logit_sum) * keep).sum() / vocab  # mean over V of -log p
        loss = (1.0 - smoothing) * nll + smoothing * uniform
        ctx.save_for_backward(probs, index, keep)
        ctx.smoothing, ctx.dtype = smoothing, logits.dtype
        ctx.mark_non_differentiable(nll)
        return loss, nll

    @staticmethod
    def backward(ctx: Any, grad_loss: Tensor, _grad_nll: Tensor):
        probs, index, keep = ctx.saved_tensors
        eps, vocab = ctx.smoothing, probs.size(-1)
        grad = probs  # reused in place: backward runs once (no retain_graph in training)
        if eps:
            grad.sub_(eps / vocab)
        grad.scatter_add_(1, index, grad.new_full(index.shape, eps - 1.0))
        grad.mul_((keep * grad_loss).unsqueeze(1))  # padding rows get zero gradient
        return grad.to(ctx.dtype), None, None, None


def label_smoothed_loss(
    logits: Tensor, target: Tensor, *, smoothing: float, pad_id: int = PAD_ID
) -> tuple[Tensor, Tensor]:
    """Summed (not averaged) smoothed loss and NLL over the non-pad tokens, float32 scalars.

    logits (B, T, V) in any dtype (bf16 under autocast), target (B, T). Smoothing follows
    Szegedy et al. (2016) as PyTorch's cross_entropy does: (1 - eps) * NLL + eps * mean over the
    vocabulary of -log p. Sums let the trainer normalise by the token count of the whole update
    (across batches and ranks). The NLL is detached (for reporting perplexity).
    """
    vocab = logits.size(-1)
    return _SmoothedCrossEntropy.apply(
        logits.reshape(-1, vocab), target.reshape(-1), float(smoothing), pad_id
    )
