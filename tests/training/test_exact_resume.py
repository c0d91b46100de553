"""Exact resume in every mode a user runs: stopped by SIGINT mid-run, then `--resume`, training
ends where an uninterrupted run ends, bit for bit (weights, optimizer moments, losses, lrs).

CPU arithmetic with one thread is deterministic in every precision, so bf16 autocast and fp16
with its loss scaler are held to bit-equality too (on CUDA, non-deterministic kernels would need
a tolerance; these tests state the CPU contract). 2-process DDP is compared with a tolerance
(rtol 1e-4): its gradient all-reduce sums in another order than one process does.
"""

from __future__ import annotations

import os
import signal
import socket
from pathlib import Path
from typing import Any

import pytest
import torch
import torch.multiprocessing as mp

from nmtkit.io.checkpoint import load_tensors
from tests.training.conftest import read_metrics, tiny_model_config, train

STEPS, STOP = 6, 2
MODES: dict[str, dict[str, Any]] = {
    "sentence batches across an epoch": {"batch_size": 128},
    "token batches (--max-tokens)": {"max_tokens": 600},
    "--update-freq 2": {"update_freq": 2, "batch_size": 64},
    "bf16 autocast": {"precision": "bf16", "batch_size": 128},
    "fp16 with loss scaler": {"precision": "fp16", "batch_size": 128},
    "cosine over --max-time": {"lr_schedule": "cosine", "max_time": "6s", "max_steps": 0,
                               "batch_size": 128},
}  # fmt: skip


class StepClock:
    """A clock that advances one second per update, so a --max-time budget (and the cosine
    schedule that follows it) is reproducible; stands in for `time` inside the trainer."""

    def __init__(self, start: float) -> None:
        import time

        self.now, self.time, self.perf_counter = start, time.time, time.perf_counter

    def monotonic(self) -> float:
        return self.now


def use_step_clock(monkeypatch: pytest.MonkeyPatch, start: float) -> None:
    from nmtkit.training import trainer

    clock, update = StepClock(start), trainer.Trainer._update

    def timed_update(self, group):
        update(self, group)
        clock.now += 1.0

    monkeypatch.setattr(trainer, "time", clock)
    monkeypatch.setattr(trainer.Trainer, "_update", timed_update)


def interrupt_at(monkeypatch: pytest.MonkeyPatch, batch: int) -> None:
    """SIGINT this process while it prepares its `batch`-th batch (the run stops after that
    update)."""
    from nmtkit.training.data import TrainData

    original, seen = TrainData.batch, []

    def batch_then_signal(self, ids):
        seen.append(1)
        if len(seen) == batch:
            os.kill(os.getpid(), signal.SIGINT)
        return original(self, ids)

    monkeypatch.setattr(TrainData, "batch", batch_then_signal)


@pytest.fixture
def sigint_default():
    """SIGINT delivered as usual even when the suite runs with it ignored (nohup, `&`)."""
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, before)


def assert_same_run(a: Path, b: Path) -> None:
    for name in ("checkpoint_last.safetensors", "trainer_state.safetensors"):
        x, _ = load_tensors(a / name)
        y, _ = load_tensors(b / name)
        different = [k for k in x if not torch.equal(x[k], y[k])]
        assert x.keys() == y.keys() and not different, (name, different[:3])
    full, resumed = read_metrics(a), read_metrics(b)
    assert [m["step"] for m in resumed] == [m["step"] for m in full]
    assert [(m["loss"], m["lr"]) for m in resumed] == [(m["loss"], m["lr"]) for m in full]


@pytest.mark.parametrize("mode", list(MODES))
def test_sigint_then_resume_equals_the_uninterrupted_run(
    data_dir: Path, tmp_path: Path, sigint_default: None, mode: str
) -> None:
    flags = {"max_steps": STEPS, "keep_last": 0, "log_every": 1, **MODES[mode]}
    config = tiny_model_config(emb_dropout=0.2)  # dropout: the RNG state must resume too
    full, resumed = tmp_path / "full", tmp_path / "resumed"
    with pytest.MonkeyPatch.context() as patch:
        use_step_clock(patch, start=0.0)
        train(data_dir, full, model_config=config, **flags)
    assert read_metrics(full)[-1]["step"] == STEPS  # (max-time: the clock's budget ends there)
    with pytest.MonkeyPatch.context() as patch:
        use_step_clock(patch, start=0.0)
        interrupt_at(patch, batch=STOP * flags.get("update_freq", 1))
        out = train(data_dir, resumed, model_config=config, **flags)
    assert f"interrupted by SIGINT at step {STOP}" in out
    with pytest.MonkeyPatch.context() as patch:
        use_step_clock(patch, start=100.0)  # a new process: only clock differences count
        out = train(data_dir, resumed, model_config=config, resume=True, **flags)
    assert f"resuming from step {STOP}" in out
    assert_same_run(full, resumed)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rank(rank: int, data_dir: Path, save_dir: Path, port: int, steps: int, resume: bool) -> None:
    os.environ.update(
        MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), LOCAL_RANK=str(rank),
        WORLD_SIZE="2", LOCAL_WORLD_SIZE="2",
    )  # fmt: skip
    train(data_dir, save_dir, max_steps=steps, batch_size=16, keep_last=0, resume=resume)


@pytest.mark.slow
def test_resume_under_ddp_equals_resume_in_one_process(data_dir: Path, tmp_path: Path) -> None:
    """Two ranks (batches r, r+2, ...) against one process with --update-freq 2."""
    single, ddp = tmp_path / "single", tmp_path / "ddp"
    for steps, resume in ((2, False), (4, True)):
        train(data_dir, single, max_steps=steps, batch_size=16, update_freq=2, keep_last=0,
              resume=resume)  # fmt: skip
        mp.spawn(_rank, args=(data_dir, ddp, _free_port(), steps, resume), nprocs=2, join=True)
    a, _ = load_tensors(single / "checkpoint_last.safetensors")
    b, _ = load_tensors(ddp / "checkpoint_last.safetensors")
    assert a.keys() == b.keys()
    for name in a:
        torch.testing.assert_close(b[name], a[name], rtol=1e-4, atol=1e-5)
    assert [m["step"] for m in read_metrics(ddp)] == [1, 2, 3, 4]
