"""Training: `run()` (called by `nmtkit train`) and `TrainConfig` (its options)."""

from __future__ import annotations

from nmtkit.training.config import TrainConfig
from nmtkit.training.run import run

__all__ = ["TrainConfig", "run"]
