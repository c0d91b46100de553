"""Fixtures for training tests: a tiny model config and a helper that runs `training.run`."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

TINY_VOCAB = 300  # the tiny_data_dir fixture's joint vocabulary


def tiny_model_config(**changes: Any):
    from nmtkit.models.build import ModelConfig

    values: dict[str, Any] = {
        "encoder": "rnn",
        "attention": "concat",
        "decoder": "bahdanau",
        "encoder_options": {"cell": "gru", "layers": 1, "hidden_size": 16, "dropout": 0.0},
        "attention_options": {"size": 16},
        "decoder_options": {"cell": "gru", "layers": 1, "hidden_size": 24, "dropout": 0.0},
        "src_vocab_size": TINY_VOCAB,
        "tgt_vocab_size": TINY_VOCAB,
        "emb_size": 16,
        "emb_dropout": 0.0,
    }
    values.update(changes)
    return ModelConfig(**values)


def tiny_train_config(**changes: Any):
    from nmtkit.training import TrainConfig

    values: dict[str, Any] = {
        "batch_size": 32,
        "max_steps": 6,
        "max_epochs": 0,
        "log_every": 1,
        "keep_last": 2,
        "warmup_steps": 0,  # a few steps only: no warm-up
        "threads": 1,
        "device": "cpu",
        "precision": "fp32",  # exactness tests (resume, DDP) are stated for fp32
    }
    values.update(changes)
    return TrainConfig(**values)


def train(
    data_dir: Path,
    save_dir: Path,
    *,
    model_config: Any = None,
    resume: bool = False,
    force: bool = False,
    **train_changes: Any,
) -> str:
    """Run training; returns what it printed."""
    from nmtkit.training import run

    out = io.StringIO()
    console = Console(file=out, width=200, force_terminal=False, color_system=None)
    run(
        data_dir=data_dir,
        save_dir=save_dir,
        model_config=model_config or tiny_model_config(),
        train_config=tiny_train_config(**train_changes),
        resume=resume,
        force=force,
        console=console,
    )
    return out.getvalue()


def read_metrics(save_dir: Path, kind: str = "train") -> list[dict[str, Any]]:
    lines = (save_dir / "metrics.jsonl").read_text().splitlines()
    return [r for r in map(json.loads, lines) if r["kind"] == kind]


@pytest.fixture()
def data_dir(tiny_data_dir: Path) -> Path:
    return tiny_data_dir
