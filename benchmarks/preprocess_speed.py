"""Time `nmtkit preprocess` on the bundled Multi30k corpus and on a synthetic corpus N times larger.

Each measurement runs in a fresh child process (so peak RSS is that run's own), which reports
wall seconds, its RSS after imports (baseline), its peak RSS (self and worker processes), and the
token count. "bytes/token" is (peak - baseline) / (src + tgt tokens): it stays flat as the corpus
grows if memory scales with the token arrays (4 bytes/token while encoding) and not with a list of
Python strings (~50-100 bytes/token). Sentencepiece training keeps its (sampled) sentences in C++
memory, so the encode-only row (--spm-model reuse) isolates nmtkit's own streaming.

    .venv/bin/python benchmarks/preprocess_speed.py [--scale 20] [--workers 1]

The machine may be shared: repeat a run before trusting a difference of less than ~20%.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CORPUS = Path(__file__).resolve().parent.parent / "examples" / "multi30k" / "data"


def child(cfg_json: str) -> None:
    """Run one preprocess in this process and print its measurements as JSON."""
    from nmtkit.data.preprocess import PreprocessConfig, run

    cfg = PreprocessConfig.from_dict(json.loads(cfg_json))
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    manifest = run(cfg)
    seconds = time.perf_counter() - start
    peak = max(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    )
    tokens = sum(s.src_tokens + s.tgt_tokens for s in manifest.splits.values())
    pairs = sum(s.sentences for s in manifest.splits.values())
    print(json.dumps({"seconds": seconds, "base_kb": base, "peak_kb": peak,
                      "tokens": tokens, "pairs": pairs}))


def measure(cfg: dict) -> dict:
    cmd = [sys.executable, __file__, "--child", json.dumps(cfg)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def synthesize(directory: Path, scale: int, seed: int = 0) -> str:
    """train.{en,de} = the bundled train pairs repeated `scale` times, each copy shuffled."""
    import gzip

    with gzip.open(CORPUS / "train.en.gz", "rt", encoding="utf-8") as f:
        src = f.read().splitlines()
    with gzip.open(CORPUS / "train.de.gz", "rt", encoding="utf-8") as f:
        tgt = f.read().splitlines()
    rng = random.Random(seed)
    order = list(range(len(src)))
    with open(directory / "big.en", "w") as fs, open(directory / "big.de", "w") as ft:
        for _ in range(scale):
            rng.shuffle(order)
            fs.write("".join(src[i] + "\n" for i in order))
            ft.write("".join(tgt[i] + "\n" for i in order))
    return str(directory / "big")


def row(name: str, r: dict) -> str:
    growth = (r["peak_kb"] - r["base_kb"]) * 1024
    return (f"{name:<28} {r['pairs']:>9,} {r['tokens']:>11,} {r['seconds']:>8.2f} "
            f"{r['peak_kb'] / 1024:>8.0f} {growth / 2**20:>9.0f} {growth / r['tokens']:>8.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=20)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--encode-only", action="store_true",
                        help="skip the scaled run that trains sentencepiece (the slow one)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        common = {"source_lang": "en", "target_lang": "de", "workers": args.workers, "force": True}
        base = {**common, "train": str(CORPUS / "train"), "valid": str(CORPUS / "val"),
                "test": [str(CORPUS / "test_2016_flickr")], "out": str(tmp / "small")}
        t0 = time.perf_counter()
        big = synthesize(tmp, args.scale)
        gen = time.perf_counter() - t0
        runs = [
            ("multi30k (29k pairs)", base),
            (f"synthetic {args.scale}x", {**common, "train": big, "out": str(tmp / "big")}),
            (f"synthetic {args.scale}x, encode only",
             {**common, "train": big, "out": str(tmp / "big2"), "spm_model": str(tmp / "small")}),
        ]
        if args.encode_only:
            runs.pop(1)
        print(f"workers={args.workers}; synthetic corpus generated in {gen:.1f}s")
        print(f"{'run':<28} {'pairs':>9} {'tokens':>11} {'seconds':>8} {'peak MB':>8} "
              f"{'growth MB':>9} {'B/token':>8}")
        results = {}
        for name, cfg in runs:
            results[name] = measure(cfg)
            print(row(name, results[name]), flush=True)
        small, big_r = results[runs[0][0]], results[runs[-1][0]]
        print(f"ratio {runs[-1][0]} / 1x: time {big_r['seconds'] / small['seconds']:.1f}x, "
              f"tokens {big_r['tokens'] / small['tokens']:.1f}x")


if __name__ == "__main__":
    main()
