"""Beam search, vectorised over batch × beam (Sutskever et al. 2014; Wu et al. 2016 scoring)."""

from __future__ import annotations

from torch import Tensor

from nmtkit.data.specials import EOS_ID
from nmtkit.search.strategy import NEG_INF, Search


class BeamSearch(Search):
    """Keep the K best partial hypotheses per sentence.

    Each step scores all K·V extensions and takes the top 2K: at most K of them end in EOS, so K
    non-EOS candidates always remain and EOS never starves the beam (fairseq's trick). The K best
    non-EOS candidates continue; an EOS candidate becomes a finished hypothesis (normalised by the
    length penalty) when it scores at least as well as the K-th survivor, i.e. when it would have
    earned a place in the beam. A sentence stops once it holds K finished hypotheses or reaches its
    maximum length.

    Per-step shapes: log_probs (N', V) → cand (B', K·V) → top (B', 2K) → survivors (B', K).
    """

    def advance(self, log_probs: Tensor, weights: Tensor) -> None:
        lp = self.constrained(log_probs)  # (B', K, V)
        B_, K, V = lp.shape
        cand = lp.add_(self.scores.unsqueeze(2)).view(B_, K * V)  # (B', K·V), in place
        top, flat = cand.topk(min(2 * K, K * V), dim=1)  # (B', 2K)
        rows = flat // V  # (B', 2K) previous row within the sentence
        tok = flat % V  # (B', 2K)
        is_eos = tok == EOS_ID  # (B', 2K)
        alive, pos = top.masked_fill(is_eos, NEG_INF).topk(K, dim=1)  # (B', K)
        w = weights.view(B_, K, -1)  # (B', K, S)
        ended = top.masked_fill(~is_eos | (top < alive[:, K - 1 :]), NEG_INF)  # (B', 2K)
        self.finish(ended, rows, w)
        self.extend(alive, rows.gather(1, pos), tok.gather(1, pos), w)
