"""Label-smoothed cross-entropy in float32, padding ignored; in training fused with the vocabulary
projection.

The (B·T, V) tensors of the vocabulary projection are the largest of a training step, in time
and in peak memory: a batch of 64 long sentences has about 3,000 target tokens, so its bf16
logits, float32 probabilities and bf16 gradient take about 200 MB with an 8k vocabulary. Hence
two custom autograd functions instead of log_softmax + nll:

- `label_smoothed_loss(logits, ...)` (scheduled sampling, which needs the logits step by step):
  the forward computes the softmax once, in place in a float32 copy, and the backward reuses it
  (gradient = p - q for the smoothed target distribution q): one (N, V) float32 buffer, not four.
- `projected_loss(features, generator, ...)` (teacher forcing, validation): drops the padding
  rows, then projects, normalises and differentiates a chunk of rows at a time *during the
  forward pass*, keeping only the gradients of the features (N, H) and of the output layer
  (V, H) for the backward (the idea of Liger Kernel's fused linear cross-entropy). Same matmuls
  as the unfused path, none spent on padding, and the (N, V) tensors never exist whole.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F
from torch import Tensor

from nmtkit.data.specials import PAD_ID

if TYPE_CHECKING:
    from nmtkit.data.collate import Batch
    from nmtkit.models.embeddings import Generator

#: Logit elements per chunk of `projected_loss` (rows = this // V): 32 MB of float32 logits,
#: about 1,000 target tokens (a median Multi30k batch) with an 8k vocabulary.
CHUNK_ELEMENTS = 1 << 23


def _softmax_loss_(probs: Tensor, index: Tensor, keep: Tensor | None, smoothing: float):
    """probs (N, V) float32 logits, turned into probabilities in place; index (N, 1) targets,
    keep (N,) 1.0 on real rows (None: all real) → summed smoothed loss and NLL, float32."""
    vocab = probs.size(-1)
    target_logit = probs.gather(1, index).squeeze(1)  # (N,)
    logit_sum = probs.sum(-1)  # (N,)
    top = probs.amax(-1, keepdim=True)  # (N, 1)
    probs.sub_(top).exp_()
    norm = probs.sum(-1, keepdim=True)  # (N, 1)
    probs.div_(norm)
    lse = (top + norm.log()).squeeze(1)  # (N,) log-sum-exp of each row
    nll_rows, uniform_rows = lse - target_logit, lse * vocab - logit_sum  # (N,), (N,)
    if keep is not None:
        nll_rows, uniform_rows = nll_rows * keep, uniform_rows * keep
    uniform = uniform_rows.sum() / vocab  # mean over V of -log p
    nll = nll_rows.sum()
    return (1.0 - smoothing) * nll + smoothing * uniform, nll


def _logit_grad_(probs: Tensor, index: Tensor, smoothing: float) -> Tensor:
    """In place: probabilities (N, V) → d(loss)/d(logits) = p - q, q the smoothed target."""
    if smoothing:
        probs.sub_(smoothing / probs.size(-1))
    return probs.scatter_add_(1, index, probs.new_full(index.shape, smoothing - 1.0))


class _SmoothedCrossEntropy(torch.autograd.Function):
    """logits (N, V), target (N,) → (summed smoothed loss, summed NLL), float32 scalars."""

    @staticmethod
    def forward(ctx: Any, logits: Tensor, target: Tensor, smoothing: float, pad_id: int):
        probs = logits.to(torch.float32, copy=True)  # (N, V) becomes softmax in place
        keep = (target != pad_id).to(torch.float32)  # (N,)
        index = target.masked_fill(target == pad_id, 0).unsqueeze(1)  # (N, 1)
        loss, nll = _softmax_loss_(probs, index, keep, smoothing)
        ctx.save_for_backward(probs, index, keep)
        ctx.smoothing, ctx.dtype = smoothing, logits.dtype
        ctx.mark_non_differentiable(nll)
        return loss, nll

    @staticmethod
    def backward(ctx: Any, grad_loss: Tensor, _grad_nll: Tensor):
        probs, index, keep = ctx.saved_tensors
        # probs reused in place: backward runs once (no retain_graph in training)
        grad = _logit_grad_(probs, index, ctx.smoothing)
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


class _ProjectedCrossEntropy(torch.autograd.Function):
    """features (N, H) of real tokens, weight (V, H), bias (V,) | None, target (N,) → summed
    (loss, NLL); matmuls in `dtype`, softmax, sums and parameter gradients in float32 (cast to
    the parameters' dtype at the end)."""

    @staticmethod
    def forward(ctx: Any, features: Tensor, weight: Tensor, bias: Tensor | None,
                target: Tensor, smoothing: float, dtype: torch.dtype, grad_mode: bool):  # fmt: skip
        need_grad = grad_mode and any(ctx.needs_input_grad[:3])  # not under no_grad (validation)
        with torch.autocast(features.device.type, enabled=False):  # dtypes are explicit here
            h, w = features.to(dtype), weight.to(dtype)  # (N, H), (V, H)
            b = None if bias is None else bias.to(dtype)  # (V,)
            grads = _ProjectionGrads(h, weight, bias) if need_grad else None
            loss = nll = h.new_zeros((), dtype=torch.float32)
            rows = max(1, CHUNK_ELEMENTS // weight.size(0))
            for start in range(0, h.size(0), rows):
                h_c, index = h[start : start + rows], target[start : start + rows].unsqueeze(1)
                probs = F.linear(h_c, w, b).float()  # (C, V)
                loss_c, nll_c = _softmax_loss_(probs, index, None, smoothing)
                loss, nll = loss + loss_c, nll + nll_c
                if grads is not None:
                    grads.add_chunk(start, h_c, w, _logit_grad_(probs, index, smoothing))
        saved = (None, None, None) if grads is None else grads.tensors()
        ctx.save_for_backward(*saved)
        ctx.dtypes = features.dtype, weight.dtype
        ctx.mark_non_differentiable(nll)
        return loss, nll

    @staticmethod
    def backward(ctx: Any, grad_loss: Tensor, _grad_nll: Tensor):
        grad_h, grad_w, grad_b = ctx.saved_tensors  # d(loss)/d(·), computed in the forward
        feature_dtype, param_dtype = ctx.dtypes
        grad_h = (grad_h * grad_loss).to(feature_dtype)
        grad_w = None if grad_w is None else (grad_w * grad_loss).to(param_dtype)
        grad_b = None if grad_b is None else (grad_b * grad_loss).to(param_dtype)
        return grad_h, grad_w, grad_b, None, None, None, None


class _ProjectionGrads:
    """Gradient accumulators of `_ProjectedCrossEntropy`, filled one chunk of rows at a time."""

    def __init__(self, h: Tensor, weight: Tensor, bias: Tensor | None) -> None:
        self.h = torch.empty_like(h)  # (N, H) in the matmul dtype
        self.w = torch.zeros_like(weight, dtype=torch.float32)  # (V, H)
        self.b = None if bias is None else torch.zeros_like(bias, dtype=torch.float32)  # (V,)

    def add_chunk(self, start: int, h_c: Tensor, w: Tensor, grad_logits: Tensor) -> None:
        """h_c (C, H), w (V, H) in the matmul dtype, grad_logits (C, V) float32."""
        if self.b is not None:
            self.b.add_(grad_logits.sum(0))
        g = grad_logits.to(w.dtype)  # (C, V)
        torch.mm(g, w, out=self.h[start : start + h_c.size(0)])  # (C, H)
        self.w.add_(torch.mm(g.t(), h_c))  # (V, H)

    def tensors(self) -> tuple[Tensor, Tensor, Tensor | None]:
        return self.h, self.w, self.b


def _matmul_dtype(x: Tensor) -> torch.dtype:
    """The dtype autocast would run the projection in (bf16/fp16), else the features' own."""
    kind = x.device.type
    return torch.get_autocast_dtype(kind) if torch.is_autocast_enabled(kind) else x.dtype


def projected_loss(
    features: Tensor,
    generator: Generator,
    target: Tensor,
    *,
    smoothing: float,
    num_tokens: int | None = None,
    pad_id: int = PAD_ID,
) -> tuple[Tensor, Tensor]:
    """`label_smoothed_loss(generator(features), target)`, without the (B, T, V) logits.

    features (B, T, Ho) from the decoder, target (B, T). `num_tokens` (non-pad targets, known on
    the host from the batch) avoids a device sync when selecting the real rows.
    """
    flat_target = target.reshape(-1)  # (B·T,)
    mask = flat_target != pad_id
    count = int(mask.sum()) if num_tokens is None else num_tokens
    rows = torch.nonzero_static(mask, size=count).squeeze(1)  # (N,) real tokens
    h = features.reshape(-1, features.size(-1)).index_select(0, rows)  # (N, Ho)
    if generator.pre is not None:
        h = generator.pre(h)  # (N, E)
    out = generator.out
    return _ProjectedCrossEntropy.apply(
        h, out.weight, out.bias, flat_target.index_select(0, rows), float(smoothing),
        _matmul_dtype(h), torch.is_grad_enabled(),
    )  # fmt: skip


def model_loss(
    model: Any, batch: Batch, *, smoothing: float, teacher_forcing: float = 1.0
) -> tuple[Tensor, Tensor]:
    """One batch's summed smoothed loss and NLL (float32): fused projection under teacher
    forcing, logits step by step under scheduled sampling. Call inside the autocast context."""
    if teacher_forcing >= 1.0:
        features, _ = model.features(batch.src, batch.src_lengths, batch.tgt_in)  # (B, T, Ho)
        return projected_loss(features, model.generator, batch.tgt_out, smoothing=smoothing,
                              num_tokens=batch.num_tgt_tokens)  # fmt: skip
    logits, _ = model(
        batch.src, batch.src_lengths, batch.tgt_in, teacher_forcing=teacher_forcing
    )  # (B, T, V)
    return label_smoothed_loss(logits, batch.tgt_out, smoothing=smoothing)
