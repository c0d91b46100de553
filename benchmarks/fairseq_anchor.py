"""The issue's fairseq 0.12.3 Transformer anchor, run in the same hour as nmtkit's figures.

fairseq lives in its own benchmark venv (never in nmtkit's), with torch pinned to the project's:

    python3 -m venv /tmp/fsvenv
    /tmp/fsvenv/bin/pip install torch==2.13.0 "setuptools<70" wheel cython "numpy<2"
    /tmp/fsvenv/bin/pip install --no-build-isolation fairseq-fixed ctranslate2 sentencepiece \
        sacrebleu
    .venv/bin/python benchmarks/fairseq_anchor.py --fairseq-venv /tmp/fsvenv [--work DIR]

The corpus is segmented with a joint 8k BPE sentencepiece model trained by `nmtkit preprocess`
(train_speed.py's data directory: the issue's segmentation, and what nmtkit's speed runs use);
`fairseq-preprocess --joined-dictionary` binarizes them. Then the issue's `fairseq-train`
command (3+3 layers, d 256, 4 heads, ffn 1024, batches of 64 sentences, 2 threads) runs
--updates updates without validation or checkpoints. Prints target tokens/s over updates
20..N (fairseq's own `wps` of each logged interval, averaged), seconds from launch to the first
logged update, and peak RSS.

With --minutes M it instead trains for M minutes (`--stop-time-hours`, validation loss each
epoch as fairseq does by default), then times whole commands on the 1,000 test_2016_flickr
sentences: `fairseq-generate` beam 5 and greedy (batches of 64), and, if `ctranslate2` is in
the venv, the same model converted with `ct2-fairseq-converter` (float32, 2 threads, batches of
64; a process that segments, translates and decodes). Each output is scored with sacreBLEU
against the raw references.
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
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from train_speed import corpus_dir, preprocess

TRAIN = shlex.split(
    "--cpu --arch transformer --share-all-embeddings --encoder-layers 3 --decoder-layers 3 "
    "--encoder-embed-dim 256 --decoder-embed-dim 256 --encoder-ffn-embed-dim 1024 "
    "--decoder-ffn-embed-dim 1024 --encoder-attention-heads 4 --decoder-attention-heads 4 "
    "--dropout 0.1 --attention-dropout 0.1 --activation-dropout 0.1 "
    "--criterion label_smoothed_cross_entropy --label-smoothing 0.1 --optimizer adam "
    "--adam-betas (0.9,0.98) --lr 0.001 --lr-scheduler inverse_sqrt --warmup-updates 1000 "
    "--clip-norm 1.0 --batch-size 64 --max-source-positions 256 --max-target-positions 256"
)


def segment(data: Path, out: Path) -> Path:
    """train/valid/test as space-separated pieces of nmtkit's sentencepiece model."""
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor(model_file=str(data / "spm.model"))
    out.mkdir(parents=True, exist_ok=True)
    corpus = corpus_dir()
    for split, name in (("train", "train"), ("valid", "val"), ("test", "test_2016_flickr")):
        for lang in ("en", "de"):
            lines = gzip.decompress((corpus / f"{name}.{lang}.gz").read_bytes()).decode()
            pieces = sp.encode(lines.splitlines(), out_type=str)
            (out / f"{split}.{lang}").write_text("".join(" ".join(p) + "\n" for p in pieces))
    return out


def fairseq_preprocess(venv: Path, dest: Path, prefixes: dict[str, Path], workers: int
                       ) -> dict[str, float]:  # fmt: skip
    """`fairseq-preprocess --joined-dictionary` en→de of {"train"/"valid"/"test": prefix} into
    `dest`; its wall seconds and peak RSS (MiB, wait4: the main process)."""
    cmd = [str(venv / "bin" / "fairseq-preprocess"), "--source-lang", "en", "--target-lang", "de",
           "--joined-dictionary", "--destdir", str(dest), "--workers", str(workers)]  # fmt: skip
    for split, prefix in prefixes.items():
        cmd += [f"--{split}pref", str(prefix)]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status):
        sys.exit(f"fairseq-preprocess failed (run it to see why): {shlex.join(cmd)}")
    return {"seconds": time.perf_counter() - start, "peak_mib": usage.ru_maxrss / 1024}


def binarize(bin_: Path, text: Path, venv: Path) -> None:
    if not (bin_ / "dict.en.txt").is_file():
        splits = ("train", "valid", "test")
        fairseq_preprocess(venv, bin_, {s: text / s for s in splits}, workers=2)


def train(
    bin_: Path, venv: Path, updates: int, work: Path, extra: list[str] | None = None
) -> dict[str, float]:
    """fairseq-train: --updates updates without saving, or `extra` (a time budget) if given."""
    cmd = [str(venv / "bin" / "fairseq-train"), str(bin_), *TRAIN, "--log-format", "json",
           "--log-interval", "20", "--save-dir", str(work / "ckpt"),
           "--num-workers", "0"]  # fmt: skip
    cmd += extra or ["--max-update", str(updates), "--disable-validation", "--no-save"]
    env = {**os.environ, "OMP_NUM_THREADS": "2", "MKL_NUM_THREADS": "2"}
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=env)  # fmt: skip
    wps, first, last = [], None, 0
    assert proc.stdout is not None
    for line in proc.stdout:
        if '"wps"' not in line or "train_inner" not in line:
            continue
        first = first or time.perf_counter() - start
        record = json.loads(line[line.index("{") :])
        if 20 < int(record["num_updates"]) <= 320:
            wps.append(float(record["wps"]))
        last = int(record["num_updates"])
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status):
        sys.exit(f"fairseq-train failed: {' '.join(cmd)}")
    return {"tgt_tok_s": sum(wps) / max(1, len(wps)), "first_log_s": first or 0.0,
            "peak_rss_mib": usage.ru_maxrss / 1024, "intervals": len(wps),
            "updates": last}  # fmt: skip


def timed(cmd: list[str], **kwargs: Any) -> tuple[float, str]:
    start = time.perf_counter()
    env = {**os.environ, "OMP_NUM_THREADS": "2", "MKL_NUM_THREADS": "2",
           "TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD": "1"}  # fairseq 0.12 pickles argparse.Namespace
    done = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env, **kwargs)
    return time.perf_counter() - start, done.stdout


def bleu(hyps: list[str]) -> dict[str, float]:
    import sacrebleu

    name = "test_2016_flickr.de.gz"
    refs = gzip.decompress((corpus_dir() / name).read_bytes()).decode().splitlines()
    return {"bleu": sacrebleu.corpus_bleu(hyps, [refs]).score,
            "chrf": sacrebleu.corpus_chrf(hyps, [refs]).score}  # fmt: skip


def generate(bin_: Path, ckpt: Path, venv: Path, beam: int) -> dict[str, float]:
    """fairseq-generate on the test split, whole command timed; hypotheses in id order."""
    seconds, out = timed([
        str(venv / "bin" / "fairseq-generate"), str(bin_), "--path", str(ckpt), "--cpu",
        "--gen-subset", "test", "--beam", str(beam), "--batch-size", "64",
        "--remove-bpe", "sentencepiece", "--num-workers", "0",
    ])  # fmt: skip
    hyps = {int(line.split("\t")[0][2:]): line.split("\t")[2] for line in out.splitlines()
            if line.startswith("H-")}  # fmt: skip
    return {"seconds": seconds, "sent_s": len(hyps) / seconds,
            **bleu([hyps[i] for i in range(len(hyps))])}  # fmt: skip


CT2 = """
import sys, sentencepiece as spm, ctranslate2
sp = spm.SentencePieceProcessor(model_file=sys.argv[2])
src = sp.encode(open(sys.argv[3]).read().splitlines(), out_type=str)
tr = ctranslate2.Translator(sys.argv[1], device="cpu", inter_threads=1, intra_threads=2)
out = tr.translate_batch(src, beam_size=int(sys.argv[4]), max_batch_size=64)
print("\\n".join(sp.decode(r.hypotheses[0]) for r in out))
"""


def ctranslate2(work: Path, ckpt: Path, venv: Path, data: Path, beam: int) -> dict[str, float]:
    """The same model through CTranslate2: convert once, then time the whole process."""
    model = work / "ct2"
    if not (model / "model.bin").is_file():
        # fairseq 0.12 checkpoints pickle argparse.Namespace: load them as torch did before 2.6
        convert = ("import sys, torch; load = torch.load; torch.load = lambda *a, **k: load("
                   "*a, **{**k, 'weights_only': False}); "
                   "from ctranslate2.converters.fairseq import main; sys.exit(main())")
        subprocess.run([str(venv / "bin" / "python"), "-c", convert, "--model_path", str(ckpt),
                        "--data_dir", str(work / "bin"), "--output_dir", str(model), "--force"],
                       check=True, capture_output=True)  # fmt: skip
    src = work / "test.en"
    src.write_bytes(gzip.decompress((corpus_dir() / "test_2016_flickr.en.gz").read_bytes()))
    seconds, out = timed([str(venv / "bin" / "python"), "-c", CT2, str(model),
                          str(data / "spm.model"), str(src), str(beam)])  # fmt: skip
    hyps = out.splitlines()
    return {"seconds": seconds, "sent_s": len(hyps) / seconds, **bleu(hyps)}


def train_for(bin_: Path, venv: Path, minutes: float, work: Path) -> dict[str, float]:
    """The anchor command for `minutes` of wall clock; tok/s of updates 20..320 as above."""
    extra = ["--stop-time-hours", str(minutes / 60), "--no-epoch-checkpoints"]
    return train(bin_, venv, 0, work, extra)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fairseq-venv", type=Path, required=True)
    parser.add_argument("--work", type=Path, default=Path("/tmp/nmtbench-fairseq"))
    parser.add_argument("--updates", type=int, default=320)
    parser.add_argument("--minutes", type=float, default=0, help="train this long, then decode")
    parser.add_argument("--skip-train", action="store_true", help="decode WORK/ckpt's model")
    args = parser.parse_args()
    venv, work, bin_ = args.fairseq_venv, args.work, args.work / "bin"
    data = preprocess(work)
    binarize(bin_, segment(data, work / "pieces"), venv)
    if not args.minutes:
        print(json.dumps(train(bin_, venv, args.updates, work)))
        return
    result: dict[str, Any] = {}
    if not args.skip_train:
        result["train"] = train_for(bin_, venv, args.minutes, work)
    print(json.dumps(result), flush=True)
    ckpt = work / "ckpt" / "checkpoint_last.pt"
    for name, beam in (("generate beam 5", 5), ("generate greedy", 1)):
        result[name] = generate(bin_, ckpt, venv, beam)
        print(json.dumps({name: result[name]}), flush=True)
    if (venv / "bin" / "ct2-fairseq-converter").is_file():
        for name, beam in (("ctranslate2 beam 5", 5), ("ctranslate2 greedy", 1)):
            result[name] = ctranslate2(work, ckpt, venv, data, beam)
            print(json.dumps({name: result[name]}), flush=True)
    (work / "results.json").write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
