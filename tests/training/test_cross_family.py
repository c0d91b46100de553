"""Every cross-family combination trains a few steps, round-trips through safetensors with its
metadata, and translates; Transformer and RNN checkpoints ensemble and average."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from nmtkit.io.checkpoint import read_metadata
from nmtkit.models.build import model_from_checkpoint
from nmtkit.training.average import average_checkpoints
from tests.training.conftest import tiny_model_config, train
from tests.translate.translate_helpers import translate_file

pytestmark = pytest.mark.slow  # five short training runs (~10 s idle)

TRANSFORMER = {"layers": 1, "heads": 2, "ffn_size": 32, "dropout": 0.0, "attention_dropout": 0.0}
RNN_DEC = {"cell": "gru", "layers": 1, "hidden_size": 24, "dropout": 0.0}
COMBOS = [
    ("transformer", "bahdanau"), ("transformer", "luong"), ("transformer", "plain"),
    ("rnn", "transformer"), ("transformer", "transformer"),
]  # fmt: skip


def family_config(encoder: str, decoder: str, **changes):
    values = {"encoder": encoder, "decoder": decoder}
    if encoder == "transformer":
        values["encoder_options"] = TRANSFORMER
    if decoder == "transformer":
        values.update(attention="auto", attention_options={}, decoder_options=TRANSFORMER)
    else:
        values["decoder_options"] = RNN_DEC
    return tiny_model_config(**{**values, **changes})


@pytest.fixture(scope="module")
def source_lines(tiny_corpus_dir: Path) -> list[str]:
    return (tiny_corpus_dir / "test_2016_flickr.en").read_text(encoding="utf-8").splitlines()


@pytest.fixture(scope="module")
def runs(tiny_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One short run per combination (the Transformer one with the full recipe)."""
    out = {}
    for encoder, decoder in COMBOS:
        save = tmp_path_factory.mktemp(f"{encoder}-{decoder}")
        recipe = {}
        if (encoder, decoder) == ("transformer", "transformer"):
            recipe = dict(lr_schedule="inverse-sqrt", warmup_steps=2, label_smoothing=0.1,
                          max_tokens=200, precision="bf16", max_steps=3, keep_last=3,
                          validate_every=1)  # fmt: skip
        train(tiny_data_dir, save, model_config=family_config(encoder, decoder),
              **{"max_steps": 2, **recipe})  # fmt: skip
        out[f"{encoder}-{decoder}"] = save
    return out


@pytest.mark.parametrize("combo", [f"{e}-{d}" for e, d in COMBOS])
def test_combination_trains_round_trips_and_translates(combo, runs, tmp_path, source_lines):
    path = runs[combo] / "checkpoint_last.safetensors"
    model, meta = model_from_checkpoint(path)
    stored = json.loads(meta["model_config"])
    assert (stored["encoder"], stored["decoder"]) == tuple(combo.split("-"))
    assert stored == json.loads(model.config.to_json())
    again, _ = model_from_checkpoint(path)
    again_state = again.state_dict()
    for name, tensor in model.state_dict().items():
        assert torch.equal(tensor, again_state[name]), name
    lines = source_lines[:6]
    out = translate_file(tmp_path, [path], lines, beam=3, max_len_b=8, alignment=True,
                         alignment_layer=-1)  # fmt: skip
    assert len(out) == len(lines)
    assert all("\t" in line for line in out)  # hypothesis + alignment from cross-attention


def test_transformer_recipe_trained_with_warmup_bf16_and_token_batches(runs):
    meta = read_metadata(runs["transformer-transformer"] / "checkpoint_last.safetensors")
    stored = json.loads(meta["model_config"])
    assert stored["attention"] == "multihead"
    assert stored["attention_options"] == {"heads": 2, "size": 16}
    train_cfg = json.loads(meta["train_config"])
    assert train_cfg["precision"] == "bf16" and train_cfg["lr_schedule"] == "inverse-sqrt"


def test_rnn_and_transformer_checkpoints_ensemble(runs, tmp_path, source_lines):
    rnn = runs["transformer-luong"] / "checkpoint_last.safetensors"
    transformer = runs["rnn-transformer"] / "checkpoint_last.safetensors"
    lines = source_lines[:5]
    out = translate_file(tmp_path, [rnn, transformer], lines, beam=2, max_len_b=6)
    assert len(out) == len(lines)


def test_transformer_checkpoints_average(runs, tmp_path):
    save = runs["transformer-transformer"]
    steps = sorted(save.glob("checkpoint_step*.safetensors"))
    assert len(steps) >= 2
    out = tmp_path / "avg.safetensors"
    average_checkpoints(steps[-2:], out)
    _, meta = model_from_checkpoint(out)
    assert json.loads(meta["model_config"])["decoder"] == "transformer"


def test_attention_json_holds_every_head_whose_mean_is_the_search_weights(runs, tmp_path):
    path = runs["transformer-transformer"] / "checkpoint_last.safetensors"
    out = tmp_path / "attn.json"
    lines = ["a man rides a bike .", "two dogs play in the snow ."]
    translate_file(tmp_path, [path], lines, beam=2, max_len_b=6, precision="fp32",
                   attention_json=str(out), attention_heads=True)  # fmt: skip
    records = json.loads(out.read_text())
    assert len(records) == 2
    for record in records:
        heads = torch.tensor(record["heads"])  # (L, H, T+1, S+1)
        rows, cols = len(record["target"]), len(record["source"])
        assert heads.shape == (1, 2, rows, cols)
        torch.testing.assert_close(
            heads[0].mean(0), torch.tensor(record["attention"]), atol=2e-4, rtol=0
        )
