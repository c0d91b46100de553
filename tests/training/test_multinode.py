"""Two "nodes" x 1 process under torchrun on loopback (c10d rendezvous, gloo) match one process
with the same global batch: what `torchrun --nnodes 2` does across machines, on one."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from nmtkit.io.checkpoint import load_tensors
from tests.training.conftest import read_metrics, train

pytestmark = pytest.mark.slow
STEPS = 3
WORKER = Path(__file__).with_name("multinode_worker.py")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def node_command(node_rank: int, port: int, data_dir: Path, save_dir: Path) -> list[str]:
    """What each machine runs (its own --node-rank); the endpoint is node 0's address."""
    return [
        sys.executable, "-m", "torch.distributed.run", "--nnodes", "2", "--nproc-per-node", "1",
        "--node-rank", str(node_rank), "--rdzv-backend", "c10d",
        "--rdzv-endpoint", f"127.0.0.1:{port}", "--rdzv-id", "nmtkit-test",
        str(WORKER), str(data_dir), str(save_dir), str(STEPS),
    ]  # fmt: skip


def test_two_nodes_match_single_process(data_dir: Path, tmp_path: Path) -> None:
    # Global batch: 2 nodes x 1 batch of 16 = one process with --update-freq 2 (see test_ddp).
    train(data_dir, tmp_path / "single", max_steps=STEPS, batch_size=16, update_freq=2,
          keep_last=0)  # fmt: skip
    port = _free_port()
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    nodes = [
        subprocess.Popen(node_command(rank, port, data_dir, tmp_path / "nodes"), env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for rank in (0, 1)
    ]  # fmt: skip
    outputs = [node.communicate(timeout=240)[0] for node in nodes]
    assert [node.returncode for node in nodes] == [0, 0], outputs
    single, _ = load_tensors(tmp_path / "single" / "checkpoint_last.safetensors")
    multi, _ = load_tensors(tmp_path / "nodes" / "checkpoint_last.safetensors")
    assert single.keys() == multi.keys()
    for name in single:
        torch.testing.assert_close(multi[name], single[name], rtol=1e-4, atol=1e-5)
    losses_single = [m["loss"] for m in read_metrics(tmp_path / "single")]
    losses_multi = [m["loss"] for m in read_metrics(tmp_path / "nodes")]  # global rank 0 logs
    assert len(losses_multi) == STEPS
    torch.testing.assert_close(torch.tensor(losses_multi), torch.tensor(losses_single))
