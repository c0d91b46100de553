"""The Multi30k quality bar (issue 7): the default recipe under a wall-clock training budget.

    .venv/bin/python benchmarks/quality.py [--max-time 12m] [--work /tmp/nmtkit-quality]

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
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "examples" / "multi30k" / "data"


def nmtkit(*args: str, stdin: Path | None = None, stdout: Path | None = None) -> float:
    """Run one nmtkit command; returns its wall-clock seconds."""
    start = time.perf_counter()
    with open(stdin or "/dev/null", "rb") as fin, open(stdout or "/dev/null", "wb") as fout:
        subprocess.run([sys.executable, "-m", "nmtkit", *args], stdin=fin,
                       stdout=fout if stdout else None, check=True)  # fmt: skip
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
    args = parser.parse_args()
    work, data, model = args.work, args.work / "data", args.work / "model"
    work.mkdir(parents=True, exist_ok=True)
    times: dict[str, float] = {}
    if not args.skip_train:
        times["preprocess"] = nmtkit(
            "preprocess", "-s", "en", "-t", "de", "--train", str(CORPUS / "train"),
            "--valid", str(CORPUS / "val"), "--out", str(data), "--force",
        )  # fmt: skip
        times["train"] = nmtkit("train", str(data), "--save-dir", str(model), "--force",
                                "--max-time", args.max_time)  # fmt: skip
    src = unzip("test_2016_flickr.en", work / "test.en")
    ref = unzip("test_2016_flickr.de", work / "test.de")
    rows = []
    for name in ("checkpoint_avg", "checkpoint_best"):
        ckpt = model / f"{name}.safetensors"
        if not ckpt.is_file():
            continue
        hyp = work / f"test.{name}.de"
        times[f"translate {name}"] = nmtkit("translate", "-c", str(ckpt), stdin=src, stdout=hyp)
        rows.append((name, score(ref, hyp)))
    print("\nvalidation history (greedy BLEU on val):")
    for line in (model / "metrics.jsonl").read_text().splitlines():
        record = json.loads(line)
        if record["kind"] == "valid":
            print(f"  epoch {record['epoch']:>2}  step {record['step']:>5}  "
                  f"bleu {record['bleu']:.2f}  ppl {record['ppl']:.2f}")  # fmt: skip
    print(f"\ntest_2016_flickr, beam 5 (defaults), --max-time {args.max_time}:")
    for name, scores in rows:
        print(f"  {name:<16} BLEU {scores['BLEU']:.1f}  chrF {scores['chrF2']:.1f}")
    print("\nwall-clock seconds: " + ", ".join(f"{k} {v:.0f}" for k, v in times.items()))


if __name__ == "__main__":
    main()
