"""DDP on 2 CPU processes (gloo) matches one process with the same global batch."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import torch
import torch.multiprocessing as mp

from nmtkit.io.checkpoint import load_tensors
from tests.training.conftest import read_metrics, train

STEPS = 3


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank: int, data_dir: Path, save_dir: Path, port: int) -> None:
    """One torchrun-like rank: the same environment variables torchrun sets."""
    os.environ.update(
        MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), LOCAL_RANK=str(rank),
        WORLD_SIZE="2", LOCAL_WORLD_SIZE="2",
    )  # fmt: skip
    train(data_dir, save_dir, max_steps=STEPS, batch_size=16, keep_last=0)


def test_ddp_two_processes_match_single_process(data_dir: Path, tmp_path: Path) -> None:
    # Rank r takes batches r, r+2, ...: one DDP update covers the same two batches as one
    # single-process update with --update-freq 2, normalised by the same token count.
    train(data_dir, tmp_path / "single", max_steps=STEPS, batch_size=16, update_freq=2,
          keep_last=0)  # fmt: skip
    mp.spawn(_worker, args=(data_dir, tmp_path / "ddp", _free_port()), nprocs=2, join=True)
    single, _ = load_tensors(tmp_path / "single" / "checkpoint_last.safetensors")
    ddp, _ = load_tensors(tmp_path / "ddp" / "checkpoint_last.safetensors")
    assert single.keys() == ddp.keys()
    for name in single:
        torch.testing.assert_close(ddp[name], single[name], rtol=1e-4, atol=1e-5)
    steps_single = [m["step"] for m in read_metrics(tmp_path / "single")]
    steps_ddp = [m["step"] for m in read_metrics(tmp_path / "ddp")]  # rank 0 alone logs
    assert steps_single == steps_ddp == [1, 2, 3]
    losses_single = [m["loss"] for m in read_metrics(tmp_path / "single")]
    losses_ddp = [m["loss"] for m in read_metrics(tmp_path / "ddp")]  # summed over ranks
    torch.testing.assert_close(torch.tensor(losses_ddp), torch.tensor(losses_single))
