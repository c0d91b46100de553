"""Where training's resident memory goes: RSS and peak RSS after each phase of a real run.

Builds the real Trainer in-process (as `nmtkit train` does) on full Multi30k, then runs
--updates updates, a validation (greedy BLEU over the whole valid split), the checkpoint writes,
--updates more updates and a second validation, printing the current and peak resident set
(Linux /proc) after each phase. Issue 4's bar is a training peak RSS of at most 1 GB.

    .venv/bin/python benchmarks/train_memory.py [--config rnn-base|default] [--updates 200]

Training bounds ideep's and oneDNN's per-shape matmul caches (nmtkit.hardware); prefix
LRU_CACHE_CAPACITY=1024 ONEDNN_PRIMITIVE_CACHE_CAPACITY=1024 to measure PyTorch's defaults.
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from train_speed import in_process_trainer, preprocess, proc_status_mb


def rss_mb() -> tuple[float, float]:
    """(current, peak) resident set of this process in MB."""
    return proc_status_mb("self", "VmRSS"), proc_status_mb("self", "VmHWM")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", choices=["rnn-base", "default"], default="rnn-base")
    parser.add_argument("--updates", type=int, default=200)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--work", type=Path, default=None, help="reuse data/ here across runs")
    parser.add_argument(
        "--mmap-threshold",
        type=int,
        default=0,
        help="glibc mallopt(M_MMAP_THRESHOLD) in bytes before training; 0 = as is",
    )
    parser.add_argument("--trim", action="store_true", help="malloc_trim(0) after each phase")
    parser.add_argument("--trim-every", type=int, default=0, help="malloc_trim(0) every N updates")
    args = parser.parse_args()
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    if args.mmap_threshold:
        libc.mallopt(-3, args.mmap_threshold)  # M_MMAP_THRESHOLD; also stops its dynamic growth
    work = args.work or Path(tempfile.mkdtemp(prefix="nmtkit-train-memory-"))
    work.mkdir(parents=True, exist_ok=True)
    data = preprocess(work)
    rows = [("start (python, before torch)", *rss_mb(), 0.0)]
    t0 = time.perf_counter()
    save = work / f"save-{args.config}"
    trainer = in_process_trainer(data, save, args.threads, config=args.config)
    rows.append(("torch, model, optimizer, data", *rss_mb(), time.perf_counter() - t0))
    groups = iter(trainer.data.epoch_groups(0))

    def phase(name: str, fn: Callable[[], object]) -> None:
        start = time.perf_counter()
        fn()
        if args.trim:
            libc.malloc_trim(0)
        rows.append((name, *rss_mb(), time.perf_counter() - start))

    def updates() -> None:
        for i in range(args.updates):
            trainer._update(next(groups))
            if args.trim_every and (i + 1) % args.trim_every == 0:
                libc.malloc_trim(0)

    phase(f"{args.updates} updates", updates)
    phase("validation (greedy BLEU)", lambda: trainer._run_validation())
    phase("checkpoint writes", lambda: trainer._save(best=True))
    phase(f"{args.updates} more updates", updates)
    phase("second validation", lambda: trainer._run_validation())
    print(f"config={args.config}  threads={args.threads}")
    print(f"{'phase':<34}{'RSS MB':>9}{'peak MB':>9}{'seconds':>9}")
    for name, rss, peak, secs in rows:
        print(f"{name:<34}{rss:>9.0f}{peak:>9.0f}{secs:>9.1f}")


if __name__ == "__main__":
    main()
