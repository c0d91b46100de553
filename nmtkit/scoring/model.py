"""Model scoring (placeholder until the model/data contracts land)."""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from nmtkit.errors import NotImplementedYet
from nmtkit.scoring.config import ModelScoreConfig


def run_model_scoring(
    checkpoint: Path, src: Path, tgt: Path, cfg: ModelScoreConfig, *, as_json: bool, out: TextIO
) -> None:
    raise NotImplementedYet("model scoring is not implemented yet")
