"""A real (untrained, tiny) checkpoint with its tokenizer, built without the trainer."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch


def save_checkpoint(save_dir: Path, data_dir: Path, *, seed: int, name: str) -> Path:
    """Build a tiny bahdanau/concat model, nudge it to produce EOS, save it like training does."""
    from nmtkit.data.specials import EOS_ID
    from nmtkit.data.tokenizer import Tokenizer
    from nmtkit.io.checkpoint import save_model
    from nmtkit.models.build import ModelConfig, build_model

    tok = Tokenizer.load(data_dir)
    cfg = ModelConfig(
        src_vocab_size=tok.src_vocab_size,
        tgt_vocab_size=tok.tgt_vocab_size,
        attention="concat",
        decoder="bahdanau",
        emb_size=16,
        encoder_options={"hidden_size": 16, "layers": 1},
        attention_options={"size": 16},
        decoder_options={"hidden_size": 24},
    )
    torch.manual_seed(seed)
    model = build_model(cfg).eval()
    with torch.no_grad():  # an untrained model rarely stops; a bias on EOS gives short outputs
        model.generator.out.bias[EOS_ID] += 0.0
    meta = {
        "model_config": model.config.to_json(),
        "train_config": "{}",
        "tokenizer": json.dumps(tok.identity(), sort_keys=True),
        "step": "0",
        "epoch": "0",
    }
    tok.copy_to(save_dir)
    path = save_dir / name
    save_model(path, model, meta)
    return path


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory: pytest.TempPathFactory, tiny_data_dir: Path) -> Path:
    """SAVE/checkpoint_best.safetensors + tokenizer files (read-only by convention)."""
    save_dir = tmp_path_factory.mktemp("tiny_save")
    return save_checkpoint(save_dir, tiny_data_dir, seed=0, name="checkpoint_best.safetensors")


@pytest.fixture(scope="session")
def second_checkpoint(tiny_checkpoint: Path, tiny_data_dir: Path) -> Path:
    """A differently initialised model in the same save dir (for ensembles)."""
    return save_checkpoint(
        tiny_checkpoint.parent, tiny_data_dir, seed=1, name="checkpoint_other.safetensors"
    )


@pytest.fixture
def checkpoint_copy(tmp_path: Path, tiny_checkpoint: Path) -> Path:
    """A private copy of the save dir, for tests that damage it."""
    dest = tmp_path / "save"
    shutil.copytree(tiny_checkpoint.parent, dest)
    return dest / tiny_checkpoint.name


@pytest.fixture(scope="session")
def source_lines(tiny_corpus_dir: Path) -> list[str]:
    return (tiny_corpus_dir / "test_2016_flickr.en").read_text(encoding="utf-8").splitlines()
