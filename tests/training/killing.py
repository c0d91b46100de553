"""Kill a real `nmtkit train` process with SIGKILL at chosen moments; check what it leaves.

Shared by tests/training/test_kill.py (a handful of kills) and scripts/kill_train.py (hundreds).
A kill is aimed at a moment by polling the save dir: a temp file of checkpoint_last being
written, a temp file of trainer_state (checkpoint_last already renamed: the window between the two
renames), a step checkpoint being written, or a random delay.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from nmtkit.io.atomic import is_temp_file

# Large embeddings make files big (tens of MB with the optimizer moments, so a write takes a
# while) while the RNNs stay small, so an update stays cheap on a CPU.
MODEL_FLAGS = [
    "--encoder", "rnn", "--attention", "concat", "--decoder", "bahdanau",
    "--encoder-cell", "gru", "--decoder-cell", "gru", "--emb-size", "1024",
    "--encoder-hidden-size", "16", "--decoder-hidden-size", "16", "--encoder-layers", "1",
    "--decoder-layers", "1", "--emb-dropout", "0.1",
]  # fmt: skip
TRAIN_FLAGS = [
    "--batch-size", "32", "--max-epochs", "0", "--warmup-steps", "0", "--validate-every", "2",
    "--keep-last", "2", "--log-every", "1", "--precision", "fp32", "--device", "cpu",
    "--threads", "1", "--seed", "3",
]  # fmt: skip
STATE, LAST = "trainer_state.safetensors", "checkpoint_last.safetensors"
# random: a random delay once the process trains; anytime: also during start-up and setup.
MODES = ("last_write", "between_renames", "step_write", "random", "anytime")


def train_command(data: Path, save: Path, max_steps: int, *, resume: bool) -> list[str]:
    """The run's command; a resume names no architecture: it comes from the trainer state."""
    model = ["--resume"] if resume else MODEL_FLAGS
    return [sys.executable, "-m", "nmtkit", "train", str(data), "--save-dir", str(save), *model,
            *TRAIN_FLAGS, "--max-steps", str(max_steps)]  # fmt: skip


def start(cmd: list[str], log: Path) -> subprocess.Popen:
    """Start at a lower priority than this (polling) process, so that on a busy machine the
    poller still wakes within the few milliseconds a write takes."""
    with open(log, "ab") as f:
        return subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT,
                                preexec_fn=lambda: os.nice(10))  # fmt: skip


def temp_files(save: Path) -> list[str]:
    return sorted(p.name for p in save.iterdir() if is_temp_file(p.name)) if save.is_dir() else []


def _writing(save: Path, target: str) -> bool:
    return any(n.startswith(f".{target}") for n in temp_files(save))


def moment(mode: str, save: Path, rng: random.Random) -> Callable[[], bool]:
    """A predicate that turns true at the moment to kill (only once a trainer_state exists, so
    there is always something to resume). Call it just before starting the process."""
    has_state = lambda: (save / STATE).is_file()  # noqa: E731
    if mode == "last_write":
        return lambda: has_state() and _writing(save, LAST)
    if mode == "between_renames":
        return lambda: has_state() and _writing(save, STATE)
    if mode == "step_write":
        return lambda: has_state() and _writing(save, "checkpoint_step")
    assert mode in ("random", "anytime"), mode
    delay = rng.uniform(0.0, 2.0)
    since: list[float] = []
    created = time.time()
    metrics = save / "metrics.jsonl"

    def training() -> bool:  # "random" waits until this process logged an update
        return mode == "anytime" or (metrics.is_file() and metrics.stat().st_mtime > created)

    def after_delay() -> bool:
        if not has_state() or not training():
            return False
        since.append(since[0] if since else time.monotonic())
        return time.monotonic() - since[0] >= delay

    return after_delay


def kill_at(proc: subprocess.Popen, when: Callable[[], bool], timeout: float = 900.0) -> bool:
    """SIGKILL `proc` as soon as `when()` holds; False if it exited first."""
    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        if when():
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            return True
        time.sleep(0.0005)
    if proc.poll() is None:
        proc.kill()
        proc.wait()
        raise TimeoutError(f"train did not reach the kill moment in {timeout} s")
    return False


def state_step(save: Path) -> int:
    import json

    from nmtkit.io.checkpoint import read_metadata

    return int(json.loads(read_metadata(save / STATE)["progress"])["step"])


def last_step(save: Path) -> int:
    from nmtkit.io.checkpoint import read_metadata

    return int(read_metadata(save / LAST)["step"])


def check_checkpoint_translates(save: Path, lines: list[str], tmp: Path) -> list[str]:
    """checkpoint_last loads and translates one line per input line."""
    from nmtkit.search.config import SearchConfig
    from nmtkit.translate.options import TranslateConfig
    from nmtkit.translate.pipeline import run

    src, out = tmp / "kill.src", tmp / "kill.hyp"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    run(checkpoints=[str(save / LAST)], search=SearchConfig(beam=1, max_len_b=5),
        options=TranslateConfig(), input=str(src), output=str(out), log=lambda m: None)  # fmt: skip
    hyps = out.read_text(encoding="utf-8").split("\n")[:-1]
    assert len(hyps) == len(lines)
    return hyps


def same_weights(a: Path, b: Path) -> bool:
    from safetensors.torch import load_file

    x, y = load_file(str(a)), load_file(str(b))
    return x.keys() == y.keys() and all(x[k].equal(y[k]) for k in x)
