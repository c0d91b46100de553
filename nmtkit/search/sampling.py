"""Sampling: K independent samples per sentence, with temperature and top-k (diverse outputs)."""

from __future__ import annotations

import torch
from torch import Tensor

from nmtkit.data.specials import EOS_ID
from nmtkit.search.strategy import NEG_INF, Search


class SamplingSearch(Search):
    """Draw each next piece from softmax(log_probs / temperature), optionally among the top k.

    Rows never exchange histories (reorder only drops finished sentences). Scores are the model's
    own log-probs of the drawn pieces (untempered), so samples rank like beam hypotheses. A row
    that produced EOS is finished and its score becomes -inf; the sentence stops when all K are.
    """

    def __init__(
        self,
        *,
        num_samples: int,
        temperature: float = 1.0,
        topk: int = 0,
        generator: torch.Generator | None = None,
        lenpen: float = 0.0,
        min_len: int = 0,
        max_len_a: float = 1.5,
        max_len_b: int = 10,
        keep_attention: bool = False,
    ) -> None:
        super().__init__(
            beam_size=num_samples,
            lenpen=lenpen,
            min_len=min_len,
            max_len_a=max_len_a,
            max_len_b=max_len_b,
            keep_attention=keep_attention,
        )
        self.temperature = temperature
        self.topk = topk
        self.generator = generator

    def initial_scores(self, batch: int, device: torch.device) -> Tensor:
        return torch.zeros(batch, self.K, device=device)  # every row is a live sample

    def advance(self, log_probs: Tensor, weights: Tensor) -> None:
        lp = self.constrained(log_probs)  # (B', K, V)
        B_, K, V = lp.shape
        logits = lp / self.temperature  # (B', K, V)
        if 0 < self.topk < V:
            kth = logits.topk(self.topk, dim=2).values[..., -1:]  # (B', K, 1)
            logits = logits.masked_fill(logits < kth, NEG_INF)
        probs = torch.softmax(logits.view(B_ * K, V), dim=1)  # (N', V)
        tok = torch.multinomial(probs, 1, generator=self.generator).view(B_, K)  # (B', K)
        new = self.scores + lp.gather(2, tok.unsqueeze(2)).squeeze(2)  # (B', K)
        is_eos = tok == EOS_ID
        rows = torch.arange(K, device=tok.device).expand(B_, K)  # (B', K) no reordering
        w = weights.view(B_, K, -1)  # (B', K, S)
        self.finish(new.masked_fill(~is_eos, NEG_INF), rows, w)
        self.extend(new.masked_fill(is_eos, NEG_INF), rows, tok, w, in_place=True)
