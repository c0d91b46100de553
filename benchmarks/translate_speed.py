"""Translation speed of the whole `nmtkit translate` command on Multi30k test_2016_flickr.

Prints, per beam size: sentences/s and target pieces/s over the whole command (start-up
included), the start-up time (process start → "model ready" on stderr), decode-only sentences/s,
and BLEU (sacrebleu) as a sanity check that speed did not come from broken output.

Without --checkpoint it first preprocesses the bundled corpus (joint 8k BPE) and trains the
"rnn-base" model of the train issue for --train-time (a short run: enough for realistic output
lengths, not for a good model). Reuses --work between runs.

    .venv/bin/python benchmarks/translate_speed.py --work /tmp/nmtbench-translate
    .venv/bin/python benchmarks/translate_speed.py --checkpoint SAVE/checkpoint_best.safetensors
"""

from __future__ import annotations

import argparse
import gzip
import os
import re
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "examples" / "multi30k" / "data"
NMTKIT = [sys.executable, "-m", "nmtkit"]
RNN_BASE = ["--arch", "rnn-base"]  # the reference model (`nmtkit models` lists it)


def ensure_checkpoint(work: Path, train_time: str, threads: int) -> Path:
    data, save = work / "data", work / "save"
    if not (data / "manifest.json").is_file():
        subprocess.run(
            [*NMTKIT, "preprocess", "--source-lang", "en", "--target-lang", "de",
             "--train", str(CORPUS / "train"), "--valid", str(CORPUS / "val"),
             "--test", str(CORPUS / "test_2016_flickr"), "--out", str(data),
             "--vocab-size", "8000", "--model-type", "bpe", "--joint", "--force"],
            check=True,
        )  # fmt: skip
    ckpt = save / "checkpoint_last.safetensors"
    if not ckpt.is_file():
        subprocess.run(
            [*NMTKIT, "train", str(data), "--save-dir", str(save), "--force", *RNN_BASE,
             "--precision", "bf16", "--threads", str(threads), "--max-time", train_time],
            check=True,
        )  # fmt: skip
    return ckpt


def test_files(work: Path) -> tuple[Path, list[str]]:
    src = work / "test_2016_flickr.en"
    if not src.is_file():
        work.mkdir(parents=True, exist_ok=True)
        with gzip.open(CORPUS / "test_2016_flickr.en.gz", "rb") as f:
            src.write_bytes(f.read())
    with gzip.open(CORPUS / "test_2016_flickr.de.gz", "rt", encoding="utf-8") as f:
        refs = f.read().splitlines()
    return src, refs


def timed_translate(ckpt: Path, src: Path, out: Path, flags: list[str]) -> dict[str, float]:
    """Run the command; time start-up (until the 'model ready' log line) and the whole run."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [*NMTKIT, "translate", "-c", str(ckpt), "--input", str(src), "--output", str(out), *flags],
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    ready, pieces, lines = float("nan"), 0, 0
    assert proc.stderr is not None
    for line in proc.stderr:
        if "model ready" in line:
            ready = time.perf_counter() - start
        match = re.search(r"translated (\d+) lines \((\d+) target pieces\)", line)
        if match:
            lines, pieces = int(match.group(1)), int(match.group(2))
        elif "model ready" not in line:
            sys.stderr.write(line)
    if proc.wait() != 0:
        raise SystemExit(f"translate failed with exit code {proc.returncode}")
    total = time.perf_counter() - start
    return {"total": total, "startup": ready, "lines": lines, "pieces": pieces}


def bleu(out: Path, refs: list[str]) -> float:
    import sacrebleu

    hyps = out.read_text(encoding="utf-8").splitlines()
    return sacrebleu.corpus_bleu(hyps, [refs]).score


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/nmtbench-translate"))
    parser.add_argument("--checkpoint", type=Path, default=None)
    parser.add_argument("--train-time", default="4m", help="training budget without --checkpoint")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--precision", nargs="+", default=["bf16"], help="e.g. bf16 fp32")
    parser.add_argument("--beams", type=int, nargs="+", default=[1, 5])
    parser.add_argument("--repeat", type=int, default=1, help="runs per setting (best is kept)")
    parser.add_argument(
        "--passive",
        action="store_true",
        help="OMP_WAIT_POLICY=PASSIVE: steadier figures when other processes share the cores",
    )
    args = parser.parse_args()
    if args.passive:
        os.environ["OMP_WAIT_POLICY"] = "PASSIVE"

    ckpt = args.checkpoint or ensure_checkpoint(args.work, args.train_time, args.threads)
    src, refs = test_files(args.work)
    wait = os.environ.get("OMP_WAIT_POLICY", "-")
    print(f"checkpoint {ckpt}\n{len(refs)} sentences, batch {args.batch_size}, "
          f"{args.threads} threads, OMP_WAIT_POLICY={wait}")  # fmt: skip
    print(f"load average before: {os.getloadavg()[0]:.1f} (other processes distort figures)\n")
    header = (f"{'precision':>9} {'beam':>4} {'sent/s':>8} {'tgt tok/s':>10} {'start-up s':>10} "
              f"{'decode sent/s':>13} {'total s':>8} {'BLEU':>6}")  # fmt: skip
    print(header)
    print("-" * len(header))
    rates: dict[tuple[str, int], float] = {}
    for precision in args.precision:
        for beam in args.beams:
            out = args.work / f"out.{precision}.beam{beam}.de"
            flags = ["--beam", str(beam), "--batch-size", str(args.batch_size),
                     "--precision", precision, "--threads", str(args.threads)]  # fmt: skip
            runs = [timed_translate(ckpt, src, out, flags) for _ in range(args.repeat)]
            r = min(runs, key=lambda x: x["total"])
            rate = r["lines"] / r["total"]
            rates[(precision, beam)] = rate
            decode = r["lines"] / (r["total"] - r["startup"])
            print(f"{precision:>9} {beam:>4} {rate:8.1f} {r['pieces'] / r['total']:10.0f} "
                  f"{r['startup']:10.2f} {decode:13.1f} {r['total']:8.2f} "
                  f"{bleu(out, refs):6.2f}", flush=True)  # fmt: skip
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    base = args.precision[0]
    if len(args.beams) > 1:
        b0, b1 = args.beams[0], args.beams[-1]
        ratio = rates[(base, b0)] / rates[(base, b1)]
        print(f"\nratio beam {b0} / beam {b1} ({base}): {ratio:.2f}x")
    for precision in args.precision[1:]:
        for beam in args.beams:
            ratio = rates[(base, beam)] / rates[(precision, beam)]
            print(f"ratio {base} / {precision} at beam {beam}: {ratio:.2f}x")


if __name__ == "__main__":
    main()
