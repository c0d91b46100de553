"""Fixtures for server tests: a tiny model trained for seconds, an in-process app, a real server."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("starlette", reason="the serve extra is not installed")
pytest.importorskip("uvicorn", reason="the serve extra is not installed")


@pytest.fixture(scope="session")
def trained_checkpoint(tmp_path_factory: pytest.TempPathFactory, tiny_data_dir: Path) -> Path:
    """A small GRU/concat/bahdanau model trained 40 steps on the 400-pair slice (fp32, 1 thread).

    Trained, not random: it reaches EOS, so outputs stay short and attention has some shape.
    """
    from rich.console import Console

    from nmtkit.models.build import ModelConfig
    from nmtkit.training import TrainConfig, run

    save_dir = tmp_path_factory.mktemp("serve_model")
    model = ModelConfig(
        encoder="rnn", attention="concat", decoder="bahdanau",
        encoder_options={"cell": "gru", "layers": 1, "hidden_size": 32, "dropout": 0.0},
        attention_options={"size": 32},
        decoder_options={"cell": "gru", "layers": 1, "hidden_size": 32, "dropout": 0.0},
        src_vocab_size=300, tgt_vocab_size=300, emb_size=32, emb_dropout=0.0,
    )
    train = TrainConfig(
        batch_size=64, max_steps=40, max_epochs=0, log_every=100, keep_last=1, warmup_steps=0,
        threads=1, device="cpu", precision="fp32", lr=0.02, early_stopping_metric="loss",
    )
    console = Console(file=io.StringIO(), width=200, force_terminal=False, color_system=None)
    run(data_dir=tiny_data_dir, save_dir=save_dir, model_config=model, train_config=train,
        resume=False, force=False, console=console)
    return save_dir / "checkpoint_last.safetensors"


def make_state(checkpoint: Path, **serve: Any) -> Any:
    """A ServerState with the model loaded (fp32, so results compare exactly with translate)."""
    from nmtkit.search.config import SearchConfig
    from nmtkit.serve.config import ServeConfig
    from nmtkit.serve.engine import Engine
    from nmtkit.serve.state import ServerState
    from nmtkit.translate.options import TranslateConfig

    search, options = SearchConfig(), TranslateConfig(precision="fp32", threads=1)
    engine = Engine.load([str(checkpoint)], search, options)
    return ServerState(ServeConfig(**serve), search, options, engine)


@pytest.fixture(scope="module")
def client(trained_checkpoint: Path) -> Iterator[Any]:
    """Starlette's TestClient on the real app (lifespan and batcher thread included)."""
    from starlette.testclient import TestClient

    from nmtkit.serve.app import create_app

    state = make_state(trained_checkpoint, max_lines=50, max_line_chars=300, max_body_bytes=20_000,
                       max_beam=8)
    with TestClient(create_app(state)) as c:
        c.state = state
        yield c
