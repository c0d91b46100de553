"""Validation: loss and perplexity under teacher forcing, BLEU on detokenized greedy output.

Decoding goes through nmtkit.search: greedy for `--valid-beam` 0/1, beam search above.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import torch

from nmtkit.data.collate import Batch
from nmtkit.training.loss import model_loss


def search_decoder(beam: int) -> Callable[[Any, Batch], list[list[int]]]:
    """Best-hypothesis token ids per sentence (batch order) via nmtkit.search (greedy for 0/1)."""
    from nmtkit.search.config import SearchConfig
    from nmtkit.search.driver import decode, make_strategy

    strategy = make_strategy(SearchConfig(beam=max(1, beam)))

    def run(model: Any, batch: Batch) -> list[list[int]]:
        hyps = decode(model, batch.src, batch.src_lengths, strategy)
        return [h[0].tokens for h in hyps]

    return run


@torch.no_grad()
def validate(
    model: Any,
    batches: Sequence[Batch],
    *,
    references: list[str] | None,
    detokenize: Callable[[list[list[int]]], list[str]],
    smoothing: float,
    autocast: Callable[[], Any],
    decode: Callable[[Any, Batch], list[list[int]]],
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
            loss, nll = model_loss(model, batch, smoothing=smoothing)
        loss_sum += loss.double().cpu()
        nll_sum += nll.double().cpu()
        tokens += batch.num_tgt_tokens
        if references is not None:
            with autocast():
                out = decode(model, batch)
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
        # force: the output is detokenized text; a barely trained model ending every line in " ." is
        # not a tokenized-input mistake worth a warning on stderr.
        result["bleu"] = float(sacrebleu.corpus_bleu(system, [references], force=True).score)
    return result
