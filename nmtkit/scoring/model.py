"""Model scoring: the log-probability a trained model gives each target sentence (force-decoding).

For each pair, log p(tgt | src) = Σ_t log softmax(logits_t)[y_t] over the target pieces and the
final EOS, from one teacher-forced forward pass per batch (the same computation as the
training loss, without label smoothing). Useful for filtering corpora and for checking a model
against references. Batches are length-sorted for speed; results come back in input order.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import torch
from torch import Tensor

from nmtkit.data.specials import PAD_ID
from nmtkit.errors import UsageError
from nmtkit.hardware import bound_onednn_cache, select_device
from nmtkit.scoring.config import ModelScoreConfig
from nmtkit.scoring.textio import read_lines

if TYPE_CHECKING:
    from nmtkit.data.collate import Batch
    from nmtkit.data.tokenizer import Tokenizer
    from nmtkit.models.seq2seq import Seq2Seq


@dataclasses.dataclass(frozen=True)
class PairScores:
    """Per-sentence results in input order; lengths count target pieces + EOS."""

    logprobs: Tensor  # (N,) float64, natural log
    lengths: Tensor  # (N,) int64

    @property
    def total_logprob(self) -> float:
        return float(self.logprobs.sum())

    @property
    def total_tokens(self) -> int:
        return int(self.lengths.sum())

    @property
    def perplexity(self) -> float:
        """exp(-Σ log p / Σ tokens): the corpus perplexity per target token (EOS included)."""
        return math.exp(-self.total_logprob / max(self.total_tokens, 1))


def batch_logprobs(model: Seq2Seq, batch: Batch, precision: str) -> Tensor:
    """Σ_t log p(y_t | y_<t, x) per sentence of a collated Batch → (B,) float32."""
    from nmtkit.training.precision import autocast

    with autocast(precision, batch.src.device):
        logits, _ = model(batch.src, batch.src_lengths, batch.tgt_in)  # (B, T, V)
    log_probs = torch.log_softmax(logits.float(), dim=-1)  # (B, T, V) float32
    gold = log_probs.gather(-1, batch.tgt_out.unsqueeze(-1)).squeeze(-1)  # (B, T)
    return gold.masked_fill(batch.tgt_out == PAD_ID, 0.0).sum(dim=1)  # (B,)


@torch.inference_mode()
def score_ids(
    model: Seq2Seq,
    src_ids: list[list[int]],
    tgt_ids: list[list[int]],
    *,
    batch_size: int,
    precision: str = "fp32",
    device: torch.device | str = "cpu",
) -> PairScores:
    """Score piece-id pairs (no specials) in length-sorted batches; results in input order."""
    from nmtkit.data.batching import make_batches
    from nmtkit.data.collate import collate

    src_t = [torch.tensor(ids, dtype=torch.int64) for ids in src_ids]
    tgt_t = [torch.tensor(ids, dtype=torch.int64) for ids in tgt_ids]
    src_len = torch.tensor([len(t) for t in src_t], dtype=torch.int64)  # (N,)
    tgt_len = torch.tensor([len(t) for t in tgt_t], dtype=torch.int64)  # (N,)
    out = torch.zeros(len(src_t), dtype=torch.float64)  # (N,)
    for idx in make_batches(src_len, tgt_len, batch_size=batch_size, shuffle=False):
        batch = collate([src_t[i] for i in idx], [tgt_t[i] for i in idx], idx).to(device)
        out[batch.ids.cpu()] = batch_logprobs(model, batch, precision).double().cpu()
    return PairScores(logprobs=out, lengths=tgt_len + 1)


def load_model_and_tokenizer(checkpoint: Path, device: torch.device) -> tuple[Seq2Seq, Tokenizer]:
    """The checkpoint's model and the tokenizer saved beside it (refused if it is another one)."""
    from nmtkit.checkpoint_tokenizer import tokenizer_for
    from nmtkit.models.build import model_from_checkpoint

    tokenizer = tokenizer_for([checkpoint])  # clear errors before any tensor is allocated
    model, _ = model_from_checkpoint(checkpoint, device=str(device))
    return model, tokenizer


def read_pairs(src: Path, tgt: Path) -> tuple[list[str], list[str]]:
    src_lines, tgt_lines = read_lines(src), read_lines(tgt)
    if len(src_lines) != len(tgt_lines):
        raise UsageError(
            f"{len(src_lines)} source lines but {len(tgt_lines)} target lines in {tgt}",
            file=src,
            fix="--src and --tgt must be line-aligned",
        )
    if not src_lines:
        raise UsageError("no sentence pairs to score", file=src, fix="give non-empty files")
    return src_lines, tgt_lines


def run_model_scoring(
    checkpoint: Path,
    src: Path,
    tgt: Path,
    cfg: ModelScoreConfig,
    *,
    as_json: bool,
    out: TextIO,
    log: TextIO,
) -> PairScores:
    """Read, score and print: TSV lines `logprob<TAB>avg<TAB>length` on `out` (input order) and
    the corpus summary on `log` (stderr), so the TSV stays line-aligned with the input; or one
    JSON object on `out`."""
    if cfg.batch_size < 1:
        raise UsageError("--batch-size must be >= 1")
    bound_onednn_cache()
    device, precision = select_device(cfg.device, cfg.precision)
    src_lines, tgt_lines = read_pairs(src, tgt)
    model, tokenizer = load_model_and_tokenizer(checkpoint, device)
    scores = score_ids(
        model,
        tokenizer.encode_src(src_lines),
        tokenizer.encode_tgt(tgt_lines),
        batch_size=cfg.batch_size,
        precision=precision,
        device=device,
    )
    if as_json:
        out.write(scores_json(scores) + "\n")
    else:
        out.writelines(line + "\n" for line in score_lines(scores))
        log.write(summary_line(scores) + "\n")
    return scores


def score_lines(scores: PairScores) -> list[str]:
    """`total<TAB>per-token average<TAB>length` per sentence, 4 decimals."""
    avg = scores.logprobs / scores.lengths  # (N,)
    return [
        f"{lp:.4f}\t{a:.4f}\t{n}"
        for lp, a, n in zip(
            scores.logprobs.tolist(), avg.tolist(), scores.lengths.tolist(), strict=True
        )
    ]


def summary_line(scores: PairScores) -> str:
    return (
        f"{len(scores.lengths)} sentences, {scores.total_tokens} target tokens (EOS included), "
        f"log-prob {scores.total_logprob:.4f}, perplexity {scores.perplexity:.4f}"
    )


def scores_json(scores: PairScores) -> str:
    sentences = [
        {"logprob": lp, "avg_logprob": lp / n, "length": n}
        for lp, n in zip(scores.logprobs.tolist(), scores.lengths.tolist(), strict=True)
    ]
    return json.dumps(
        {
            "sentences": sentences,
            "tokens": scores.total_tokens,
            "logprob": scores.total_logprob,
            "perplexity": scores.perplexity,
        }
    )
