"""How nmtkit's costs grow with the corpus: Multi30k-sized training sets 1x, 10x, 100x, 400x.

    .venv/bin/python benchmarks/scale.py [--sizes 1,10,100,400] [--work /tmp/nmtkit-scale]
        [--workers 1] [--updates 100] [--translate-lines 100000] [--plot scale.png]

The training set of size k is the bundled Multi30k training corpus (29,000 pairs) concatenated k
times: real sentences, but a repeated corpus (the tokenizer sample and the length distribution
are those of Multi30k; dedup-sensitive steps would see duplicates). Per size, each command runs
as its own process and reports wall seconds and its peak RSS (wait4: the main process; with
--workers N the encoding workers are separate processes, not counted):

- preprocess with tokenizer training (defaults: joint 8k unigram, sampled tokenizer input);
- preprocess reusing that tokenizer (--spm-model), and the data directory's size;
- train: seconds from launch to the first update, and peak RSS over --updates updates of a small
  model (the data pipeline is what grows with the corpus; the model does not);
- translate --translate-lines lines (greedy), once, at the largest size (its cost does not grow
  with the corpus), with --translate-checkpoint or else that small model;
- with --fairseq-venv, at 10x: the anchor, `fairseq-preprocess` with the same --workers on the
  same pieces (segmentation timed apart).

Prints a markdown table and writes results.json (and a log-log PNG with --plot, if matplotlib is
installed). The machine may be shared: compare sizes within one run.

    .venv/bin/python benchmarks/scale.py --index-only --sizes 1,10,100,400

times only training's batching index at each size, without building the corpora: the 1x data
directory's pair lengths tiled k times are exactly the lengths of the k-times concatenation, and
the epoch plan (`plan_batches` with the default --batch-size, and with --max-tokens 4096) is built
from them in a fresh process (seconds, and peak RSS growth over the process after loading).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "examples" / "multi30k" / "data"
SMALL_MODEL = ["--emb-size", "64", "--encoder-hidden-size", "64", "--decoder-hidden-size", "128"]


def run(cmd: list[str], *, stdin: Path | None = None, first_line: Path | None = None
        ) -> dict[str, float]:  # fmt: skip
    """Run `python -m nmtkit CMD`; wall seconds, peak RSS (MiB) and, if `first_line` is given,
    seconds from launch until that file has a complete first line (the first logged update)."""
    start = time.perf_counter()
    argv = [sys.executable, "-m", "nmtkit", *cmd]
    first = None
    with open(stdin or "/dev/null", "rb") as fin:
        proc = subprocess.Popen(argv, stdin=fin, stdout=subprocess.DEVNULL)
        pid = 0
        while first_line is not None and first is None:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)  # reaps it if it ended
            if pid or (first_line.is_file() and b"\n" in first_line.read_bytes()[:4096]):
                first = time.perf_counter() - start
            time.sleep(0.02)
        if not pid:
            _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"failed: {' '.join(argv)}")
    out = {"wall_s": time.perf_counter() - start, "peak_mib": usage.ru_maxrss / 1024}
    if first_line is not None:
        out["first_update_s"] = first if first is not None else out["wall_s"]
    return out


def make_corpus(work: Path, k: int) -> Path:
    """train.{en,de}: the Multi30k training corpus k times; val.{en,de} as bundled."""
    directory = work / f"corpus{k}"
    directory.mkdir(parents=True, exist_ok=True)
    for lang in ("en", "de"):
        target = directory / f"train.{lang}"
        if not target.is_file():
            text = gzip.decompress((CORPUS / f"train.{lang}.gz").read_bytes())
            with open(target, "wb") as f:
                for _ in range(k):
                    f.write(text)
        (directory / f"val.{lang}").write_bytes(
            gzip.decompress((CORPUS / f"val.{lang}.gz").read_bytes()))
    return directory


def dir_mib(path: Path) -> float:
    return sum(p.stat().st_size for p in path.iterdir()) / 2**20


def measure(work: Path, k: int, args: argparse.Namespace) -> dict[str, float]:
    corpus = make_corpus(work, k)
    common = ["-s", "en", "-t", "de", "--train", str(corpus / "train"), "--valid",
              str(corpus / "val"), "--workers", str(args.workers), "--force"]  # fmt: skip
    row: dict[str, float] = {"k": k, "pairs": 29000 * k}
    trained = work / f"data{k}-trained"
    r = run(["preprocess", *common, "--out", str(trained)])
    row.update(prep_train_s=r["wall_s"], prep_train_mib=r["peak_mib"])
    reused = work / f"data{k}"
    r = run(["preprocess", *common, "--out", str(reused), "--spm-model", str(trained)])
    row.update(prep_reuse_s=r["wall_s"], prep_reuse_mib=r["peak_mib"], dir_mib=dir_mib(reused))
    save = work / f"model{k}"
    shutil.rmtree(save, ignore_errors=True)  # its metrics.jsonl marks the first update
    r = run(["train", str(reused), "--save-dir", str(save), "--force", "--max-steps",
             str(args.updates), "--log-every", "1", "--validate-every", "0", "--max-epochs", "0",
             "--keep-last", "0", *SMALL_MODEL], first_line=save / "metrics.jsonl")  # fmt: skip
    row.update(train_first_update_s=r["first_update_s"], train_s=r["wall_s"],
               train_mib=r["peak_mib"])  # fmt: skip
    if args.fairseq_venv and k == 10:
        row.update(fairseq_preprocess(work, corpus, trained, args))
    if not args.translate_lines or k != max(sizes(args)):
        return {**row, "translate_s": float("nan"), "translate_mib": float("nan")}
    lines = work / f"input{args.translate_lines}.en"
    if not lines.is_file():
        src = (corpus / "train.en").read_bytes().splitlines(keepends=True)
        lines.write_bytes(b"".join(src[i % len(src)] for i in range(args.translate_lines)))
    ckpt = args.translate_checkpoint or save / "checkpoint_last.safetensors"
    r = run(["translate", "-c", str(ckpt), "--beam", "1"], stdin=lines)
    row.update(translate_s=r["wall_s"], translate_mib=r["peak_mib"])
    return row


def sizes(args: argparse.Namespace) -> list[int]:
    return [int(x) for x in args.sizes.split(",")]


def fairseq_preprocess(work: Path, corpus: Path, spm_dir: Path, args: argparse.Namespace
                       ) -> dict[str, float]:  # fmt: skip
    """The anchor on the same set: segment with the same sentencepiece model (timed apart: a
    fairseq user runs spm_encode first), then `fairseq-preprocess --joined-dictionary` with the
    same --workers; its wall seconds and peak RSS."""
    import fairseq_anchor  # beside this script
    import sentencepiece as spm

    pieces = work / "fairseq-pieces"
    pieces.mkdir(exist_ok=True)
    sp = spm.SentencePieceProcessor(model_file=str(spm_dir / "spm.model"))
    start = time.perf_counter()
    for split in ("train", "val"):
        for lang in ("en", "de"):
            with open(corpus / f"{split}.{lang}", encoding="utf-8") as fin, \
                    open(pieces / f"{split}.{lang}", "w", encoding="utf-8") as fout:  # fmt: skip
                for line in fin:
                    fout.write(" ".join(sp.encode(line.rstrip("\n"), out_type=str)) + "\n")
    segment_s = time.perf_counter() - start
    dest = work / "fairseq-bin"
    shutil.rmtree(dest, ignore_errors=True)
    prefixes = {"train": pieces / "train", "valid": pieces / "val"}
    r = fairseq_anchor.fairseq_preprocess(args.fairseq_venv, dest, prefixes, args.workers)
    return {"fairseq_segment_s": segment_s, "fairseq_preprocess_s": r["seconds"],
            "fairseq_preprocess_mib": r["peak_mib"]}  # fmt: skip


COLUMNS = [
    ("pairs", "{:,.0f}"), ("prep_train_s", "{:.1f}"), ("prep_train_mib", "{:.0f}"),
    ("prep_reuse_s", "{:.1f}"), ("prep_reuse_mib", "{:.0f}"), ("dir_mib", "{:.1f}"),
    ("train_first_update_s", "{:.1f}"), ("train_mib", "{:.0f}"), ("translate_s", "{:.1f}"),
    ("translate_mib", "{:.0f}"),
]  # fmt: skip


def table(rows: list[dict[str, float]]) -> str:
    head = "| " + " | ".join(c for c, _ in COLUMNS) + " |"
    lines = [head, "|" + "---|" * len(COLUMNS)]
    for row in rows:
        lines.append("| " + " | ".join(f.format(row[c]) for c, f in COLUMNS) + " |")
    return "\n".join(lines)


def plot(rows: list[dict[str, float]], path: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed (pip install 'nmtkit[plot]'): no plot", file=sys.stderr)
        return
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    pairs = [r["pairs"] for r in rows]
    for key, label in (("prep_train_s", "preprocess"), ("prep_reuse_s", "preprocess --spm-model"),
                       ("train_first_update_s", "train: first update")):  # fmt: skip
        left.loglog(pairs, [r[key] for r in rows], "o-", label=label)
    for key, label in (("prep_train_mib", "preprocess"), ("prep_reuse_mib", "--spm-model"),
                       ("train_mib", "train"), ("dir_mib", "data dir size")):  # fmt: skip
        right.loglog(pairs, [r[key] for r in rows], "o-", label=label)
    left.set(xlabel="training pairs", ylabel="seconds", title="time")
    right.set(xlabel="training pairs", ylabel="MiB", title="peak RSS / size")
    for ax in (left, right):
        ax.legend(fontsize=8)
        ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    print(f"plot: {path}")


INDEX_CHILD = """
import json, resource, sys, time, torch
from nmtkit.data.batching import plan_batches
from nmtkit.data.manifest import Manifest
from nmtkit.data.shards import open_split
from nmtkit.training import TrainConfig
split = open_split(Manifest.load(sys.argv[1]), "train")
k = int(sys.argv[2])
src, tgt = split.src_lengths.repeat(k), split.tgt_lengths.repeat(k)
rss = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
out = {"k": k, "pairs": len(src), "base_mib": rss()}
for name, budget in (("batch_size", {"batch_size": TrainConfig().batch_size}),
                     ("max_tokens", {"max_tokens": 4096})):
    start = time.perf_counter()
    plan = plan_batches(src, tgt, **budget, seed=1, epoch=0)
    out[name + "_s"] = time.perf_counter() - start
    out[name + "_batches"] = len(plan)
    del plan
out["growth_mib"] = rss() - out["base_mib"]
print(json.dumps(out))
"""


def index_only(args: argparse.Namespace) -> None:
    """Time the epoch plan for each size from the 1x directory's lengths tiled k times."""
    one = args.work / "data1"
    if not (one / "manifest.json").is_file():
        corpus = make_corpus(args.work, 1)
        run(["preprocess", "-s", "en", "-t", "de", "--train", str(corpus / "train"), "--out",
             str(one), "--force"])  # fmt: skip
    for k in sizes(args):
        done = subprocess.run([sys.executable, "-c", INDEX_CHILD, str(one), str(k)],
                              capture_output=True, text=True, check=True)  # fmt: skip
        print(done.stdout.strip(), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1,10,100,400", help="multiples of Multi30k's 29k")
    parser.add_argument("--work", type=Path, default=Path("/tmp/nmtkit-scale"))
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--updates", type=int, default=100)
    parser.add_argument("--translate-lines", type=int, default=100_000,
                        help="lines translated once, at the largest size (0: skip)")  # fmt: skip
    parser.add_argument("--translate-checkpoint", type=Path, default=None,
                        help="a trained model for that (default: the largest size's small one)")
    parser.add_argument("--fairseq-venv", type=Path, default=None,
                        help="a venv with fairseq: also run fairseq-preprocess on the 10x set")
    parser.add_argument("--plot", type=Path, default=None)
    parser.add_argument("--index-only", action="store_true", help="time the batching index only")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    if args.index_only:
        index_only(args)
        return
    rows = []
    for k in sizes(args):
        rows.append(measure(args.work, k, args))
        print(json.dumps(rows[-1]), flush=True)
    (args.work / "results.json").write_text(json.dumps(rows, indent=2) + "\n")
    print(table(rows))
    if args.plot:
        plot(rows, args.plot)


if __name__ == "__main__":
    main()
