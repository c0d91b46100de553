"""The Multi30k quality bar (issue 7): the default recipe under a wall-clock training budget.

    .venv/bin/python benchmarks/quality.py [--max-time 12m] [--work /tmp/nmtkit-quality]
        [--preprocess-args "--vocab-size 16000"] [--train-args "--lr-schedule cosine"]
        [--splits val,test_2016_flickr]

preprocess (defaults: joint 8k unigram) → train with no architecture or optimisation flags and
--max-time → translate test_2016_flickr with defaults (beam 5) from checkpoint_avg (and, for
comparison, checkpoint_best) → sacreBLEU (13a, cased, detokenized) and chrF against the raw
references. Prints the scores, the wall-clock time of each stage and the validation history.
Bar: BLEU >= 34.0 with --max-time 12m on a 2-core CPU machine.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "examples" / "multi30k" / "data"


def nmtkit(
    *args: str, peaks: dict[str, float], stdin: Path | None = None, stdout: Path | None = None
) -> float:
    """Run one nmtkit command; returns its wall-clock seconds. peaks[subcommand] keeps the
    highest peak RSS (MiB, from wait4: this process alone) seen for that subcommand."""
    start = time.perf_counter()
    cmd = [sys.executable, "-m", "nmtkit", *args]
    with open(stdin or "/dev/null", "rb") as fin, open(stdout or "/dev/null", "wb") as fout:
        proc = subprocess.Popen(cmd, stdin=fin, stdout=fout if stdout else None)
        _, status, usage = os.wait4(proc.pid, 0)  # rusage of this command alone
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise subprocess.CalledProcessError(proc.returncode, cmd)
    peaks[args[0]] = max(peaks.get(args[0], 0.0), usage.ru_maxrss / 1024)
    return time.perf_counter() - start


def unzip(name: str, out: Path) -> Path:
    out.write_bytes(gzip.decompress((CORPUS / f"{name}.gz").read_bytes()))
    return out


def score(ref: Path, hyp: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-m", "nmtkit", "score", "--ref", str(ref), str(hyp), "--json",
         "--metrics", "bleu,chrf"], capture_output=True, text=True, check=True,
    )  # fmt: skip
    scores = json.loads(out.stdout)["systems"][0]["scores"]
    return {s["name"]: s["score"] for s in scores}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--max-time", default="12m")
    parser.add_argument("--work", type=Path, default=Path("/tmp/nmtkit-quality"))
    parser.add_argument("--skip-train", action="store_true", help="reuse WORK/model")
    parser.add_argument("--preprocess-args", default="",
                        help="extra flags for preprocess (ablations: --vocab-size)")  # fmt: skip
    parser.add_argument("--train-args", default="", help="extra flags for train (ablations)")
    parser.add_argument("--translate-args", default="", help="extra flags for translate")
    parser.add_argument(
        "--splits",
        default="test_2016_flickr",
        help="comma-separated: val (to choose defaults), test_2016_flickr",
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args()
    work, data, model = args.work, args.work / "data", args.work / "model"
    work.mkdir(parents=True, exist_ok=True)
    times: dict[str, float] = {}
    peaks: dict[str, float] = {}
    if not args.skip_train:
        times["preprocess"] = nmtkit(
            "preprocess", "-s", "en", "-t", "de", "--train", str(CORPUS / "train"),
            "--valid", str(CORPUS / "val"), "--out", str(data), "--force",
            *shlex.split(args.preprocess_args), peaks=peaks,
        )  # fmt: skip
        times["train"] = nmtkit("train", str(data), "--save-dir", str(model), "--force",
                                "--max-time", args.max_time,
                                *shlex.split(args.train_args), peaks=peaks)  # fmt: skip
    rows = []
    for split in args.splits.split(","):
        src = unzip(f"{split}.en", work / f"{split}.en")
        ref = unzip(f"{split}.de", work / f"{split}.de")
        for name in ("checkpoint_avg", "checkpoint_best"):
            ckpt = model / f"{name}.safetensors"
            if not ckpt.is_file():
                continue
            hyp = work / f"{split}.{name}.de"
            times[f"translate {split} {name}"] = nmtkit(
                "translate", "-c", str(ckpt), *shlex.split(args.translate_args),
                stdin=src, stdout=hyp, peaks=peaks,
            )  # fmt: skip
            rows.append((f"{split} {name}", score(ref, hyp)))
    records = [json.loads(line) for line in (model / "metrics.jsonl").read_text().splitlines()]
    valid = [r for r in records if r["kind"] == "valid"]
    train = [r for r in records if r["kind"] == "train"]
    print("\nvalidation history (greedy BLEU on val):")
    for r in valid:
        print(f"  epoch {r['epoch']:>2}  step {r['step']:>5}  {r.get('elapsed', 0):>5.0f}s  "
              f"bleu {r['bleu']:.2f}  ppl {r['ppl']:.2f}")  # fmt: skip
    decoding = args.translate_args or "defaults (beam 5, lenpen 0.6)"
    flags = f" {args.train_args}" if args.train_args else ""
    prep = f"preprocess {args.preprocess_args}; " if args.preprocess_args else ""
    print(f"\ntranslate {decoding}; {prep}train --max-time {args.max_time}{flags}:")
    for name, scores in rows:
        print(f"  {name:<32} BLEU {scores['BLEU']:.1f}  chrF {scores['chrF2']:.1f}")
    print("\nwall-clock seconds: " + ", ".join(f"{k} {v:.0f}" for k, v in times.items()))
    print("peak RSS MiB: " + ", ".join(f"{k} {v:.0f}" for k, v in peaks.items()))
    if args.json:
        steady = train[2:] or train  # skip step 1 and the first interval
        result = {
            "preprocess_args": args.preprocess_args, "train_args": args.train_args,
            "translate_args": args.translate_args,
            "max_time": args.max_time, "steps": train[-1]["step"] if train else 0,
            "tgt_tok_s": sum(r["tgt_tok_s"] for r in steady) / max(1, len(steady)),
            "valid": valid, "scores": dict(rows), "times": times, "peak_rss_mb": peaks,
        }  # fmt: skip
        args.json.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
