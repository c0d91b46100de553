"""Multi30k ablations: the default recipe against one change at a time, same budget.

    .venv/bin/python examples/multi30k/ablate.py [--max-time 12m] [--only NAME ...] [--seeds 1 2]

Every training row runs benchmarks/quality.py (preprocess → train with --max-time → translate
val and test_2016_flickr with beam 5 → sacreBLEU/chrF), one after the other so that rows never
share the 2 cores; data rows change a preprocess flag (vocabulary size) instead. Decoding rows
(beam, length penalty, averaging) reuse the default model.
Results go to WORK/NAME.json (skipped when present, so an interrupted sweep resumes) and the
table is printed as Markdown. "to 30" is the training time at which greedy validation BLEU
first reached 30 (the peers' 12-minute level); "-" if it never did.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
QUALITY = REPO / "benchmarks" / "quality.py"

TRAIN_ROWS: dict[str, str] = {
    "default (luong + dot, LSTM, no input feeding: fused)": "",
    "bahdanau + concat (the former default)": "--decoder bahdanau --attention concat",
    "luong + dot, input feeding": "--decoder-input-feeding",
    "luong + general, input feeding": "--attention general --decoder-input-feeding",
    "luong + general": "--attention general",
    "luong + location": "--attention location",
    "luong + multihead": "--attention multihead",
    "plain (no attention)": "--decoder plain",
    "GRU cells": "--cell gru",
    "reversed source": "--encoder-reverse-source",
    "scheduled sampling, linear": "--teacher-forcing-schedule linear --teacher-forcing-min 0.7 "
    "--teacher-forcing-steps 2000",
    "scheduled sampling, exponential": "--teacher-forcing-schedule exponential "
    "--teacher-forcing-min 0.7 --teacher-forcing-steps 2000",
    "scheduled sampling, inverse-sigmoid": "--teacher-forcing-schedule inverse-sigmoid "
    "--teacher-forcing-min 0.7 --teacher-forcing-steps 2000",
    "no label smoothing": "--label-smoothing 0",
    "plateau LR schedule": "--lr-schedule plateau",
    "decoder dropout 0.2": "--decoder-dropout 0.2",
    "token batches (1,200 padded tokens)": "--max-tokens 1200",
    "larger (encoder 2x384, decoder 768)": "--encoder-hidden-size 384 --decoder-hidden-size 768",
}
#: Rows that change the data directory (preprocess flags); trained with the default recipe.
DATA_ROWS: dict[str, str] = {
    "16k vocabulary": "--vocab-size 16000",
}
DECODE_ROWS: dict[str, str] = {
    "beam 1 (greedy)": "--beam 1",
    "beam 10": "--beam 10",
    "beam 5, no length penalty": "--lenpen 0",
    "beam 5, length penalty 1.0": "--lenpen 1.0",
}


def slug(name: str, seed: int) -> str:
    keep = "".join(c if c.isalnum() else "-" for c in name.lower())
    return "-".join(filter(None, keep.split("-"))) + f"-s{seed}"


def run_row(
    work: Path, name: str, seed: int, max_time: str, train: str | None, decode: str, prep: str
) -> dict:
    out = work / f"{slug(name, seed)}.json"
    if out.is_file():
        return json.loads(out.read_text())
    base = work / slug(next(iter(TRAIN_ROWS)), seed)
    cmd = [sys.executable, str(QUALITY), "--max-time", max_time, "--splits", "val,test_2016_flickr",
           "--json", str(out)]  # fmt: skip
    if train is None:  # decoding row: reuse the default model of this seed
        cmd += ["--work", str(base), "--skip-train", "--translate-args", decode]
    else:
        cmd += ["--work", str(work / slug(name, seed)), "--train-args", f"{train} --seed {seed}"]
        cmd += ["--preprocess-args", prep] if prep else []
    print("+", " ".join(cmd), file=sys.stderr, flush=True)
    subprocess.run(cmd, check=True)
    return json.loads(out.read_text())


def table_row(name: str, results: list[dict]) -> str:
    first = results[0]
    reached = [v["elapsed"] for v in first["valid"] if v["bleu"] >= 30.0]
    to_bar = f"{reached[0] / 60:.1f} min" if reached else "-"
    cells = [
        name, str(len(results)), f"{first['steps']}", f"{first['tgt_tok_s']:.0f}", to_bar,
        f"{mean_of(results, 'val checkpoint_best', 'BLEU'):.1f}",
        f"{mean_of(results, 'test_2016_flickr checkpoint_best', 'BLEU'):.1f}",
        f"{mean_of(results, 'test_2016_flickr checkpoint_best', 'chrF2'):.1f}",
        f"{mean_of(results, 'test_2016_flickr checkpoint_avg', 'BLEU'):.1f}",
    ]  # fmt: skip
    return "| " + " | ".join(cells) + " |"


def mean_of(results: list[dict], key: str, metric: str) -> float:
    values = [r["scores"][key][metric] for r in results if key in r["scores"]]
    return sum(values) / len(values) if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--max-time", default="12m")
    parser.add_argument("--work", type=Path, default=Path("/tmp/nmtkit-ablate"))
    parser.add_argument("--only", nargs="*", default=None, help="row names (exact, else substring)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1], help="training seeds per row")
    args = parser.parse_args()
    work = args.work / args.max_time
    work.mkdir(parents=True, exist_ok=True)
    rows = (
        [(n, t, "", "") for n, t in TRAIN_ROWS.items()]
        + [(n, "", "", p) for n, p in DATA_ROWS.items()]
        + [(n, None, d, "") for n, d in DECODE_ROWS.items()]
    )
    if args.only:  # an exact row name selects that row alone, other strings match substrings
        names = {r[0] for r in rows}
        rows = [r for r in rows if any(r[0] == s if s in names else s in r[0] for s in args.only)]
    lines = ["| row | runs | steps | tgt tok/s | to 30 val | val BLEU | test BLEU | test chrF "
             "| test BLEU avg |", "|---" * 9 + "|"]  # fmt: skip
    for name, train, decode, prep in rows:
        results = [run_row(work, name, s, args.max_time, train, decode, prep) for s in args.seeds]
        lines.append(table_row(name, results))
        print("\n".join(lines), flush=True)


if __name__ == "__main__":
    main()
