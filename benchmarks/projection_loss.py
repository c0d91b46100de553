"""Fused vocabulary projection + loss (training/loss.projected_loss) against logits-then-loss.

Same process, same model and batches: forward+backward of the real model in bf16 autocast
(CPU), timed, and the growth of peak RSS over one update of a batch of 64 long sentences (the
batches that set training's peak, issue 4). Peak growth uses /proc/self/clear_refs, which resets
the peak to the current RSS (Linux). Prints absolute figures and fused/unfused ratios.

    .venv/bin/python benchmarks/projection_loss.py [--config rnn-base|default] [--steps 20]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from model_step_speed import VOCAB, synthetic_batch
from train_speed import proc_status_mb, rnn_base_model_config

from nmtkit.data.collate import Batch
from nmtkit.data.specials import PAD_ID
from nmtkit.hardware import bound_onednn_cache
from nmtkit.models.build import ModelConfig, build_model
from nmtkit.training.loss import label_smoothed_loss, model_loss

Loss = Callable[[torch.nn.Module, Batch], torch.Tensor]


def unfused(model: torch.nn.Module, batch: Batch) -> torch.Tensor:
    logits, _ = model(batch.src, batch.src_lengths, batch.tgt_in)  # (B, T, V)
    return label_smoothed_loss(logits, batch.tgt_out, smoothing=0.1)[0]


def fused(model: torch.nn.Module, batch: Batch) -> torch.Tensor:
    return model_loss(model, batch, smoothing=0.1)[0]


def as_batch(src, lengths, tgt_in, tgt_out) -> Batch:
    ntok = int((tgt_out != PAD_ID).sum())
    return Batch(src=src, src_lengths=lengths, tgt_in=tgt_in, tgt_out=tgt_out,
                 ids=torch.arange(src.size(0)), num_tgt_tokens=ntok)  # fmt: skip


def long_batch(gen: torch.Generator) -> Batch:
    """64 sentences of 27-49 target pieces: Multi30k's longest batch under --batch-size 64."""
    src = torch.randint(4, VOCAB, (64, 40), generator=gen)
    tgt = torch.randint(4, VOCAB, (64, 50), generator=gen)
    lengths = torch.randint(27, 50, (64,), generator=gen)
    tgt = tgt.masked_fill(torch.arange(50) > lengths[:, None], PAD_ID)
    return as_batch(src, torch.full((64,), 40), tgt[:, :-1], tgt[:, 1:])


def update(model: torch.nn.Module, batch: Batch, loss_fn: Loss) -> None:
    with torch.autocast("cpu", dtype=torch.bfloat16):
        loss = loss_fn(model, batch)
    (loss / batch.num_tgt_tokens).backward()
    model.zero_grad(set_to_none=True)


def tokens_per_s(model: torch.nn.Module, batches: list[Batch], loss_fn: Loss) -> float:
    update(model, batches[0], loss_fn)  # warm-up
    start = time.perf_counter()
    for batch in batches[1:]:
        update(model, batch, loss_fn)
    return sum(b.num_tgt_tokens for b in batches[1:]) / (time.perf_counter() - start)


def peak_growth_mb(model: torch.nn.Module, batch: Batch, loss_fn: Loss) -> float:
    """Peak RSS over one update minus RSS before it (the update's transient memory)."""
    update(model, batch, loss_fn)  # warm-up: oneDNN primitives, allocator pools
    Path("/proc/self/clear_refs").write_text("5")
    before = proc_status_mb("self", "VmRSS")
    update(model, batch, loss_fn)
    return proc_status_mb("self", "VmHWM") - before


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", choices=["rnn-base", "default"], default="default")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    bound_onednn_cache()  # as `nmtkit train` runs: before the first matmul
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    if args.config == "rnn-base":
        cfg = rnn_base_model_config(VOCAB, VOCAB)
    else:
        cfg = ModelConfig(src_vocab_size=VOCAB, tgt_vocab_size=VOCAB)
    model = build_model(cfg).train()
    gen = torch.Generator().manual_seed(0)
    batches = [as_batch(*synthetic_batch(64, gen)) for _ in range(args.steps + 1)]
    big = long_batch(gen)
    print(f"model {args.config}, bf16 autocast, {args.threads} threads, vocabulary {VOCAB}")
    print(f"{'loss path':24} {'tgt tok/s':>10} {'long-batch peak +MB':>20}")
    rows = {}
    for name, fn in (("logits, then loss", unfused), ("fused projection+loss", fused)):
        rows[name] = (tokens_per_s(model, batches, fn), peak_growth_mb(model, big, fn))
        print(f"{name:24} {rows[name][0]:10.0f} {rows[name][1]:20.0f}")
    (a_tok, a_mb), (b_tok, b_mb) = rows.values()
    print(f"fused/unfused: speed {b_tok / a_tok:.2f}x, long-batch peak growth {b_mb / a_mb:.2f}x")


if __name__ == "__main__":
    main()
