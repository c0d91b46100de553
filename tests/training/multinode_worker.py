"""One torchrun worker for test_multinode.py: trains the tiny model (tests.training.conftest)
with the rank and world that torchrun puts in the environment. Not a test module."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository root

from tests.training.conftest import train

if __name__ == "__main__":
    data_dir, save_dir, steps = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
    train(data_dir, save_dir, max_steps=steps, batch_size=16, keep_last=0)
