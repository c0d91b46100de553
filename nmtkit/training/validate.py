"""Validation: loss and perplexity under teacher forcing, BLEU on detokenized greedy output.

The greedy loop here is deliberately small (encode once, then `decode_step` until every
sentence has produced EOS); `--valid-beam K > 1` uses nmtkit.search when it is available.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor

from nmtkit.data.collate import Batch
from nmtkit.data.specials import BOS_ID, EOS_ID
from nmtkit.training.loss import label_smoothed_loss


@torch.no_grad()
def greedy_decode(model: Any, batch: Batch, *, max_len: int) -> list[list[int]]:
    """Greedy token ids (without EOS) for each sentence of the batch, in batch order."""
    state = model.init_state(model.encode(batch.src, batch.src_lengths))
    size = batch.src.size(0)
    prev = torch.full((size,), BOS_ID, dtype=torch.long, device=batch.src.device)  # (B,)
    finished = torch.zeros(size, dtype=torch.bool, device=prev.device)  # (B,)
    out: list[Tensor] = []
    for _ in range(max_len):
        log_probs, state, _ = model.decode_step(prev, state)  # (B, V)
        prev = log_probs.argmax(-1)  # (B,)
        out.append(prev)
        finished |= prev == EOS_ID
        if bool(finished.all()):  # one sync per decoding step; validation only
            break
    tokens = torch.stack(out, 1).tolist()  # (B, T)
    return [row[: row.index(EOS_ID)] if EOS_ID in row else row for row in tokens]


def beam_decoder(beam: int) -> Callable[..., list[list[int]]] | None:
    """A beam-search decode function from nmtkit.search if that package provides one."""
    try:
        from nmtkit.search import driver  # type: ignore[attr-defined]
        from nmtkit.search.config import SearchConfig
    except ImportError:
        return None

    def decode(model: Any, batch: Batch, *, max_len: int) -> list[list[int]]:
        cfg = SearchConfig.from_dict({"beam": beam})
        hyps = driver.decode(model, batch, cfg)
        return [h[0].tokens for h in hyps]

    return decode


@torch.no_grad()
def validate(
    model: Any,
    batches: Sequence[Batch],
    *,
    references: list[str] | None,
    detokenize: Callable[[list[list[int]]], list[str]],
    smoothing: float,
    autocast: Callable[[], Any],
    decode: Callable[..., list[list[int]]] = greedy_decode,
) -> dict[str, float | None]:
    """loss (label-smoothed), nll, ppl and (if references are given) corpus BLEU."""
    was_training = model.training
    model.eval()
    loss_sum = torch.zeros((), dtype=torch.float64)
    nll_sum = torch.zeros((), dtype=torch.float64)
    tokens = 0
    hyps: dict[int, list[int]] = {}
    for batch in batches:
        with autocast():
            logits, _ = model(batch.src, batch.src_lengths, batch.tgt_in)  # (B, T, V)
        loss, nll = label_smoothed_loss(logits, batch.tgt_out, smoothing=smoothing)
        loss_sum += loss.double().cpu()
        nll_sum += nll.double().cpu()
        tokens += batch.num_tgt_tokens
        if references is not None:
            max_len = int(batch.src.size(1) * 1.5) + 10
            with autocast():
                out = decode(model, batch, max_len=max_len)
            hyps.update(zip(batch.ids.tolist(), out, strict=True))
    model.train(was_training)
    nll_tok = float(nll_sum) / max(1, tokens)
    result: dict[str, float | None] = {
        "loss": float(loss_sum) / max(1, tokens),
        "nll_loss": nll_tok,
        "ppl": math.exp(min(nll_tok, 100.0)),
        "bleu": None,
    }
    if references is not None:
        import sacrebleu

        system = detokenize([hyps[i] for i in range(len(references))])
        result["bleu"] = float(sacrebleu.corpus_bleu(system, [references]).score)
    return result
