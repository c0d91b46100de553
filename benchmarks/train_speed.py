"""Training speed on full Multi30k (CPU): target tokens/s, time to first update, peak RSS.

Each configuration runs `python -m nmtkit train` in a fresh process (so start-up is measured as
users see it), logs every --log-every updates, and is stopped with SIGTERM once --intervals log
lines have arrived (the trainer then finishes its step, writes checkpoint_last and exits).
Throughput is the mean over the log intervals after the first (warm-up); time to first update is
the wall-clock time from process launch to the end of update 1; peak RSS comes from wait4().

    .venv/bin/python benchmarks/train_speed.py [--threads 2] [--data-dir DIR] [--only rnn-base]

Bar (issue 4, 2-core machine): rnn-base >= 3,600 tgt tok/s, first update <= 3 s, RSS <= 1 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
CORPORA = [REPO / "examples" / "multi30k" / "data", Path("/work/shared/data/multi30k")]

# The reference model and its training options: the `rnn-base` architecture of
# nmtkit/models/architectures.py (`nmtkit models` lists what it sets).
RNN_BASE = ["--arch", "rnn-base"]


def luong(scorer: str, feeding: bool) -> list[str]:
    """rnn-base with the luong decoder (rnn-base's cell, sizes and dropout) and `scorer`."""
    feed = "--decoder-input-feeding" if feeding else "--no-decoder-input-feeding"
    return [*RNN_BASE, "--attention", scorer, "--decoder", "luong", feed]


CONFIGS = {
    "rnn-base fp32": [*RNN_BASE, "--precision", "fp32"],
    "rnn-base bf16": [*RNN_BASE, "--precision", "bf16"],
    "luong/general+feed bf16": [*luong("general", True), "--precision", "bf16"],
    "luong/dot nofeed bf16": [*luong("dot", False), "--precision", "bf16"],
}


def corpus_dir() -> Path:
    for path in CORPORA:
        if (path / "train.en.gz").is_file():
            return path
    sys.exit("Multi30k not found in " + ", ".join(map(str, CORPORA)))


def preprocess(work: Path) -> Path:
    """Joint 8k BPE data dir (built once per --work directory)."""
    data = work / "data"
    if (data / "manifest.json").is_file():
        return data
    corpus = corpus_dir()
    cmd = [
        sys.executable, "-m", "nmtkit", "preprocess", "-s", "en", "-t", "de",
        "--train", str(corpus / "train"), "--valid", str(corpus / "val"),
        "--out", str(data), "--vocab-size", "8000", "--model-type", "bpe", "--joint",
    ]  # fmt: skip
    t0 = time.time()
    subprocess.run(cmd, check=True)
    print(f"preprocessed in {time.time() - t0:.1f}s → {data}", file=sys.stderr)
    return data


def metrics(save: Path) -> list[dict]:
    path = save / "metrics.jsonl"
    if not path.is_file():
        return []
    lines = path.read_text().splitlines()
    return [r for r in map(json.loads, lines[:-1] if lines and not lines[-1] else lines)
            if r["kind"] == "train"]  # fmt: skip


def proc_status_mb(pid: int | str, key: str) -> float:
    """A memory field of /proc/PID/status (VmRSS, VmHWM: current and peak resident set), in MB;
    pid may be "self"."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{key}:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def run_one(name: str, flags: list[str], data: Path, work: Path, args: argparse.Namespace) -> dict:
    save = work / name.replace(" ", "_").replace("/", "-")
    cmd = [
        sys.executable, "-m", "nmtkit", "train", str(data), "--save-dir", str(save), "--force",
        "--threads", str(args.threads), "--log-every", str(args.log_every),
        "--max-steps", "100000", "--keep-last", "0", *flags,
    ]  # fmt: skip
    shutil.rmtree(save, ignore_errors=True)  # no stale metrics.jsonl from an earlier run
    t0 = time.time()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    want = args.intervals + 1  # the step-1 line, then `intervals` full intervals
    while proc.poll() is None and len(metrics(save)) < want:
        time.sleep(0.2)
    # peak while training, before the final checkpoint write
    train_hwm = proc_status_mb(proc.pid, "VmHWM")
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    _, status, usage = os.wait4(proc.pid, 0)
    rows = metrics(save)
    if len(rows) < want:
        raise SystemExit(f"{name}: training exited early (status {status}); run {cmd}")
    steady = rows[2:want]  # skip step 1 and the first (warm-up) interval, and the SIGTERM line
    return {
        "config": name,
        "tgt_tok_s": sum(r["tgt_tok_s"] for r in steady) / len(steady),
        "first_update_s": rows[0]["time"] - t0,
        "train_rss_mb": train_hwm,
        "peak_rss_mb": usage.ru_maxrss / 1024,
        "loss": rows[-1]["loss"],
    }


def rnn_base_configs(src_vocab_size: int, tgt_vocab_size: int) -> tuple[Any, Any]:
    """(ModelConfig, TrainConfig) of `--arch rnn-base`, resolved as `nmtkit train` does."""
    from nmtkit.training.options import resolve_options

    resolved = resolve_options(flags={}, arch="rnn-base", src_vocab=src_vocab_size,
                               tgt_vocab=tgt_vocab_size)  # fmt: skip
    return resolved.model, resolved.train


def rnn_base_model_config(src_vocab_size: int, tgt_vocab_size: int) -> Any:
    """The rnn-base ModelConfig (for in-process benchmarks)."""
    return rnn_base_configs(src_vocab_size, tgt_vocab_size)[0]


def in_process_trainer(
    data: Path, save_dir: Path, threads: int, *, config: str = "rnn-base", precision: str = "bf16"
) -> Any:
    """The real Trainer, built as `nmtkit train` builds it, for in-process measurements.

    config "rnn-base" is `--arch rnn-base` (the reference model); "default" is nmtkit's defaults.
    """
    import torch
    from rich.console import Console

    from nmtkit.data.manifest import Manifest
    from nmtkit.data.tokenizer import Tokenizer
    from nmtkit.hardware import bound_onednn_cache
    from nmtkit.models.build import ModelConfig
    from nmtkit.training import TrainConfig
    from nmtkit.training.data import TrainData
    from nmtkit.training.display import Display
    from nmtkit.training.distributed import DistInfo
    from nmtkit.training.run import _build

    bound_onednn_cache()
    torch.set_num_threads(threads)
    tokenizer = Tokenizer.load(data)
    vocab = {"src_vocab_size": tokenizer.src_vocab_size, "tgt_vocab_size": tokenizer.tgt_vocab_size}
    if config == "rnn-base":
        model_cfg, cfg = rnn_base_configs(**vocab)
        cfg = cfg.replace(precision=precision, device="cpu")
    else:
        cfg, model_cfg = TrainConfig(precision=precision, device="cpu"), ModelConfig(**vocab)
    train_data = TrainData(Manifest.load(data), tokenizer, cfg, DistInfo())
    return _build(model_cfg, cfg, train_data, tokenizer, torch.device("cpu"), DistInfo(),
                  Display(Console(), enabled=False), save_dir, None)  # fmt: skip


def profile(data: Path, work: Path, args: argparse.Namespace, steps: int = 6) -> None:
    """In-process torch.profiler over a few rnn-base bf16 updates of the real Trainer."""
    from torch.profiler import profile as torch_profile

    trainer = in_process_trainer(data, work / "profile", args.threads)
    groups = trainer.data.epoch_groups(0)
    for group in groups[:3]:
        trainer._update(group)
    start = time.perf_counter()
    with torch_profile() as prof:
        for group in groups[3 : 3 + steps]:
            trainer._update(group)
    print(f"profiled {steps} updates in {time.perf_counter() - start:.2f}s")
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=20))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--log-every", type=int, default=25)
    parser.add_argument("--intervals", type=int, default=4, help="log intervals per config")
    parser.add_argument("--work", type=Path, default=None, help="reuse data/ here across runs")
    parser.add_argument("--only", nargs="*", default=None, help="config names (substring)")
    parser.add_argument("--profile", action="store_true", help="profile rnn-base bf16 updates")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="nmtkit-train-speed-"))
    work.mkdir(parents=True, exist_ok=True)
    data = preprocess(work)
    if args.profile:
        profile(data, work, args)
        return
    results = []
    for name, flags in CONFIGS.items():
        if args.only and not any(o in name for o in args.only):
            continue
        results.append(run_one(name, flags, data, work, args))
        r = results[-1]
        print(f"  {name}: {r['tgt_tok_s']:.0f} tok/s", file=sys.stderr)
    print(f"\nthreads={args.threads}  log_every={args.log_every}  intervals={args.intervals}")
    print(f"{'config':<26}{'tgt tok/s':>11}{'first update s':>16}{'train RSS MB':>14}"
          f"{'peak RSS MB':>13}{'loss':>8}")  # fmt: skip
    for r in results:
        print(f"{r['config']:<26}{r['tgt_tok_s']:>11.0f}{r['first_update_s']:>16.2f}"
              f"{r['train_rss_mb']:>14.0f}{r['peak_rss_mb']:>13.0f}{r['loss']:>8.3f}")  # fmt: skip
    base = {r["config"]: r["tgt_tok_s"] for r in results}
    if "rnn-base fp32" in base and "rnn-base bf16" in base:
        print(f"bf16 / fp32 speed-up: {base['rnn-base bf16'] / base['rnn-base fp32']:.2f}x")
    if "rnn-base bf16" in base:
        print(f"rnn-base bf16 vs bar 3600 tok/s: {base['rnn-base bf16'] / 3600:.2f}x; "
              f"vs fairseq 1820: {base['rnn-base bf16'] / 1820:.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()
