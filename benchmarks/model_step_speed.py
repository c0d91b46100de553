"""Forward+backward speed of the rnn-base model on synthetic Multi30k-like batches (CPU).

rnn-base: emb 256, bi-GRU 2x256 encoder, GRU 512 bahdanau decoder, concat scorer, vocab 8k,
batch 64, sentence lengths 8-24 (Multi30k with an 8k sentencepiece vocab averages ~15).
Prints target tokens/s for fp32 and for bf16 autocast, and their ratio (same process, same
batches). Usage: python benchmarks/model_step_speed.py [--threads 2] [--steps 20] [--decoder luong]
"""

from __future__ import annotations

import argparse
import os
import time

import torch
import torch.nn.functional as F

from nmtkit.data.specials import EOS_ID, PAD_ID
from nmtkit.models.build import ModelConfig, build_model

VOCAB = 8000


def synthetic_batch(batch: int, gen: torch.Generator) -> tuple[torch.Tensor, ...]:
    """src (B, S) pieces+EOS, lengths, tgt_in (B, T), tgt_out (B, T), PAD elsewhere."""
    src_len = torch.randint(8, 25, (batch,), generator=gen)
    tgt_len = torch.randint(8, 25, (batch,), generator=gen)
    src = torch.randint(4, VOCAB, (batch, int(src_len.max())), generator=gen)
    tgt = torch.randint(4, VOCAB, (batch, int(tgt_len.max()) + 1), generator=gen)
    src_pos = torch.arange(src.size(1))
    src = torch.where(src_pos == (src_len - 1)[:, None], EOS_ID, src)
    src = src.masked_fill(src_pos >= src_len[:, None], PAD_ID)
    tgt_pos = torch.arange(tgt.size(1))
    tgt = tgt.masked_fill(tgt_pos >= (tgt_len + 1)[:, None], PAD_ID)
    return src, src_len, tgt[:, :-1], tgt[:, 1:]


def run(model: torch.nn.Module, batches: list, *, bf16: bool) -> float:
    """Target tokens per second over the batches (after one warm-up batch)."""
    tokens, elapsed = 0, 0.0
    for i, (src, lengths, tgt_in, tgt_out) in enumerate(batches):
        start = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            logits, _ = model(src, lengths, tgt_in)
            loss = F.cross_entropy(
                logits.float().flatten(0, 1), tgt_out.flatten(), ignore_index=PAD_ID
            )
        loss.backward()
        model.zero_grad(set_to_none=True)
        if i > 0:
            elapsed += time.perf_counter() - start
            tokens += int((tgt_out != PAD_ID).sum())
    return tokens / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--decoder", default="bahdanau")
    parser.add_argument("--attention", default="concat")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    cfg = ModelConfig(
        decoder=args.decoder, attention=args.attention, src_vocab_size=VOCAB,
        tgt_vocab_size=VOCAB, encoder_options={"cell": "gru"}, decoder_options={"cell": "gru"},
    )  # fmt: skip
    model = build_model(cfg).train()
    gen = torch.Generator().manual_seed(0)
    batches = [synthetic_batch(64, gen) for _ in range(args.steps + 1)]
    fp32 = run(model, batches, bf16=False)
    bf16 = run(model, batches, bf16=True)
    load = os.getloadavg()[0]
    print(f"model: {args.decoder} decoder, {args.attention} scorer, {args.threads} threads")
    print(f"machine load average {load:.1f} (other processes distort absolute figures; with")
    print("  oversubscribed cores, OMP_WAIT_POLICY=PASSIVE avoids OpenMP spin-wait collapse)")
    print(f"fp32  {fp32:8.0f} target tokens/s (forward+backward)")
    print(f"bf16  {bf16:8.0f} target tokens/s (forward+backward, autocast)")
    print(f"bf16/fp32 ratio {bf16 / fp32:.2f}")


if __name__ == "__main__":
    main()
