"""Bookkeeping shared by every strategy: K rows per sentence, histories, finished hypotheses,
and dropping finished sentences so the model stops computing them.

Strategies subclass `Search` and write `advance` (which candidates survive) only.
"""

from __future__ import annotations

import torch
from torch import Tensor

from nmtkit.data.specials import BOS_ID, EOS_ID, PAD_ID
from nmtkit.search.hypothesis import Hypothesis
from nmtkit.search.penalties import banned_mask, constrain, length_penalty, max_target_len

NEG_INF = float("-inf")


class Search:
    """State of a batched search over B sentences with K rows each (N = B·K).

    Shape table (B' sentences still active, N' = B'·K, t output step, S source length,
    Tc = longest allowed output + 1 for EOS):

        sent           (B',)           batch index of each active sentence
        scores         (B', K)         summed log-probs of active rows (-inf: dead row)
        tokens         (B', K, t)      pieces produced so far
        attn           (B', K, t, S)   their attention weights (only with keep_attention)
        max_len        (B',)           most pieces a sentence may produce before EOS
        last_tokens    (N',)           input of the next decode_step
        reorder_index  (N',) | None    previous row feeding each new row (None: unchanged)
        memory_index   (N',) | None    rows kept when sentences left the batch (None: none left)
        finished_now   (F,) | None     batch indices of the sentences that left at this step
        fin_scores     (B, K)          normalised scores of finished hypotheses, best first
        fin_logp       (B, K)          their summed log-probs
        fin_len        (B, K)          their lengths including EOS
        fin_tokens     (B, K, Tc)      their pieces + EOS, PAD after
        fin_attn       (B, K, Tc, S)   their attention (only with keep_attention)

    Nothing in `advance` calls `.item()` or loops over sentences; the one host sync per step is
    the `any()` that decides whether sentences finished (and the batch shrinks).
    """

    def __init__(
        self,
        *,
        beam_size: int,
        lenpen: float = 0.0,
        min_len: int = 0,
        max_len_a: float = 1.5,
        max_len_b: int = 10,
        keep_attention: bool = False,
        nbest: int | None = None,
    ) -> None:
        self.K = beam_size
        self.nbest = beam_size if nbest is None else min(nbest, beam_size)
        self.lenpen = lenpen
        self.min_len = min_len
        self.max_len_a = max_len_a
        self.max_len_b = max_len_b
        self.keep_attention = keep_attention

    # -- set-up ---------------------------------------------------------------------------------

    def initial_scores(self, batch: int, device: torch.device) -> Tensor:
        """(B, K) starting scores; beam search keeps only row 0 alive so rows do not duplicate."""
        scores = torch.full((batch, self.K), NEG_INF, device=device)
        scores[:, 0] = 0.0
        return scores

    def start(self, src_lengths: Tensor, src_len: int) -> Tensor:
        """Reset for a batch. src_lengths (B,) include the source EOS; src_len is S.

        Returns the (B·K,) index that expands per-sentence state to K rows per sentence.
        """
        B, K, device = src_lengths.size(0), self.K, src_lengths.device
        self.step = 0
        self.S = src_len
        self.src_lengths = src_lengths
        self.sent = torch.arange(B, device=device)  # (B',)
        self.scores = self.initial_scores(B, device)  # (B', K)
        self.tokens = torch.zeros(B, K, 0, dtype=torch.long, device=device)  # (B', K, 0)
        self.attn = torch.zeros(B, K, 0, src_len, device=device) if self.keep_attention else None
        self.max_len = max_target_len(src_lengths - 1, self.max_len_a, self.max_len_b)  # (B',)
        self.max_len = self.max_len.clamp(min=self.min_len)
        tc = int(self.max_len.max()) + 1 if B else 1
        self.fin_scores = torch.full((B, K), NEG_INF, device=device)
        self.fin_logp = torch.full((B, K), NEG_INF, device=device)
        self.fin_len = torch.zeros(B, K, dtype=torch.long, device=device)
        self.fin_tokens = torch.full((B, K, tc), PAD_ID, dtype=torch.long, device=device)
        self.fin_attn = (
            torch.zeros(B, K, tc, src_len, device=device) if self.keep_attention else None
        )
        self.last_tokens = torch.full((B * K,), BOS_ID, dtype=torch.long, device=device)  # (N,)
        self.reorder_index: Tensor | None = None
        self.memory_index: Tensor | None = None
        self.finished_now: Tensor | None = None
        self.banned: Tensor | None = None
        return torch.arange(B, device=device).repeat_interleave(K)  # (N,)

    @property
    def done(self) -> bool:
        return self.sent.numel() == 0

    # -- per step ---------------------------------------------------------------------------------

    def constrained(self, log_probs: Tensor) -> Tensor:
        """log_probs (N', V) → (B', K, V) float32 with banned ids, min and max length applied.

        Works in place on log_probs when they are already float32 (the model's fresh output).
        """
        lp = log_probs.float().view(self.sent.size(0), self.K, -1)  # (B', K, V)
        if self.banned is None:
            self.banned = banned_mask(lp.size(-1), lp.device)
        at_max = self.max_len <= self.step  # (B',)
        return constrain(
            lp, step=self.step, min_len=self.min_len, at_max=at_max, banned=self.banned
        )

    def advance(self, log_probs: Tensor, weights: Tensor) -> None:
        """log_probs (N', V) fp32, weights (N', S): choose the surviving rows for the next step."""
        raise NotImplementedError

    def finish(self, ended: Tensor, rows: Tensor, weights: Tensor | None) -> None:
        """Move candidates that end with EOS into the finished buffers, keeping the K best.

        ended (B', C) summed log-probs including EOS (-inf: not a finished candidate); rows (B', C)
        the row (within its sentence) each candidate extends; weights (B', K, S) of this step.
        """
        if not bool(torch.isfinite(ended).any()):
            return
        idx, t, K, C = self.sent, self.step, self.K, rows.size(1)
        norm = ended / length_penalty(t + 1, self.lenpen)  # (B', C)
        best, which = torch.cat([self.fin_scores[idx], norm], 1).topk(K, dim=1)  # (B', K)
        self.fin_scores[idx] = best
        self.fin_logp[idx] = torch.cat([self.fin_logp[idx], ended], 1).gather(1, which)
        new_len = torch.full_like(rows, t + 1)
        self.fin_len[idx] = torch.cat([self.fin_len[idx], new_len], 1).gather(1, which)
        tc = self.fin_tokens.size(2)
        new_tok = torch.full((idx.size(0), C, tc), PAD_ID, dtype=torch.long, device=idx.device)
        new_tok[:, :, :t] = _gather_rows(self.tokens, rows)
        new_tok[:, :, t] = EOS_ID
        pool = torch.cat([self.fin_tokens[idx], new_tok], 1)  # (B', K + C, Tc)
        self.fin_tokens[idx] = _gather_rows(pool, which)
        if self.attn is not None and weights is not None:
            new_attn = torch.zeros(idx.size(0), C, tc, self.S, device=idx.device)
            new_attn[:, :, :t] = _gather_rows(self.attn, rows)
            new_attn[:, :, t] = _gather_rows(weights, rows).float()
            pool_attn = torch.cat([self.fin_attn[idx], new_attn], 1)  # (B', K + C, Tc, S)
            self.fin_attn[idx] = _gather_rows(pool_attn, which)

    def extend(
        self,
        scores: Tensor,
        rows: Tensor,
        tok: Tensor,
        weights: Tensor | None,
        *,
        in_place: bool = False,
    ) -> None:
        """Continue with K rows per sentence: scores, rows (which previous row), tok (B', K).

        in_place: rows[b, k] == k (sampling), so the decoder state needs no reordering.
        """
        B_, K = scores.shape
        identity = in_place or K == 1  # rows[b, k] == k: histories stay where they are
        history = self.tokens if identity else _gather_rows(self.tokens, rows)
        self.tokens = torch.cat([history, tok.unsqueeze(2)], 2)  # (B', K, t + 1)
        if self.attn is not None and weights is not None:
            step_attn = _gather_rows(weights, rows).float().unsqueeze(2)  # (B', K, 1, S)
            self.attn = torch.cat([_gather_rows(self.attn, rows), step_attn], 2)
        self.scores = scores
        self.last_tokens = tok.reshape(-1)  # (N',)
        offsets = torch.arange(B_, device=rows.device).unsqueeze(1) * K  # (B', 1)
        self.reorder_index = None if identity else (offsets + rows).view(-1)  # (N',)
        self.memory_index = None
        self.finished_now = None
        self.step += 1
        self.shrink()

    def shrink(self) -> None:
        """Drop finished sentences: K finished hypotheses (fairseq's rule), maximum length
        reached, or no live row can still beat the nbest-th finished one (see `hopeless`)."""
        K = self.K
        fin = self.fin_scores.index_select(0, self.sent)  # (B', K)
        done = (fin[:, K - 1] > NEG_INF) | (self.max_len < self.step)  # (B',)
        if self.nbest < K:  # with nbest == K the first rule already covers it
            done |= self.hopeless(fin[:, self.nbest - 1])
        if not bool(done.any()):
            return
        self.finished_now = self.sent[done]  # batch indices; `hypotheses` reads them early
        keep = (~done).nonzero().squeeze(1)  # (B'',)
        rows = torch.arange(K, device=keep.device)
        self.memory_index = (keep.unsqueeze(1) * K + rows).view(-1)  # (N'',)
        index = self.reorder_index
        if index is None:
            self.reorder_index = self.memory_index
        else:
            self.reorder_index = index.view(-1, K).index_select(0, keep).view(-1)  # (N'',)
        self.sent = self.sent.index_select(0, keep)
        self.scores = self.scores.index_select(0, keep)
        self.tokens = self.tokens.index_select(0, keep)
        self.max_len = self.max_len.index_select(0, keep)
        if self.attn is not None:
            self.attn = self.attn.index_select(0, keep)
        self.last_tokens = self.last_tokens.view(-1, K).index_select(0, keep).view(-1)

    def hopeless(self, needed: Tensor) -> Tensor:
        """(B',) True where no live row can finish above `needed` (B',), the score of the
        nbest-th finished hypothesis. Log-probs are <= 0, so a row's sum s only falls; its best
        normalised score is s / lp at whichever reachable length makes that largest. Exact:
        stopping here never changes the n best outputs, it only skips hopeless steps.
        """
        best = self.scores.max(dim=1).values  # (B',)
        lo = length_penalty(self.step + 1, self.lenpen)
        hi = length_penalty(self.max_len + 1, self.lenpen)  # (B',)
        bound = torch.maximum(best / lo, best / hi)  # (B',)
        return (needed > NEG_INF) & (needed >= bound)

    # -- result ---------------------------------------------------------------------------------

    def finalize(self) -> list[list[Hypothesis]]:
        """Finished hypotheses per sentence, best first (one host transfer, after the loop)."""
        return self.hypotheses(torch.arange(self.fin_scores.size(0), device=self.sent.device))

    def hypotheses(self, index: Tensor) -> list[list[Hypothesis]]:
        """Finished hypotheses of these batch indices (F,), best first. After the loop that is
        every sentence; during it, `finished_now` names the sentences that just left the batch,
        whose results are final (a server answers them before the rest of the batch is done)."""
        sentences = index.tolist()
        scores = self.fin_scores.index_select(0, index).tolist()
        logp = self.fin_logp.index_select(0, index).tolist()
        lens = self.fin_len.index_select(0, index).tolist()
        tokens = self.fin_tokens.index_select(0, index).tolist()
        src_lens = self.src_lengths.index_select(0, index).tolist()
        out: list[list[Hypothesis]] = []
        for i, b in enumerate(sentences):
            hyps = []
            for k in range(self.K):
                if scores[i][k] == NEG_INF:
                    continue
                n = lens[i][k]
                attn = None
                if self.fin_attn is not None:
                    attn = self.fin_attn[b, k, :n, : src_lens[i]].clone()  # (n, S_b)
                hyps.append(Hypothesis(tokens[i][k][: n - 1], scores[i][k], logp[i][k], attn))
            out.append(hyps)
        return out


def _gather_rows(x: Tensor, rows: Tensor) -> Tensor:
    """x (B', K0, ...) , rows (B', K) → x[b, rows[b, k], ...] of shape (B', K, ...)."""
    index = rows.view(*rows.shape, *([1] * (x.dim() - 2))).expand(*rows.shape, *x.shape[2:])
    return x.gather(1, index)
