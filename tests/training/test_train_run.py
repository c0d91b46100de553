"""End-to-end training on the tiny data dir: checkpoints, metadata, no pickle, exact resume."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from nmtkit.io.checkpoint import load_tensors, read_metadata
from nmtkit.models.build import model_from_checkpoint
from tests.training.conftest import read_metrics, tiny_model_config, train

PICKLE_MAGIC = (b"\x80", b"PK\x03\x04")


def test_train_writes_loadable_safetensors_checkpoints(data_dir: Path, tmp_path: Path) -> None:
    save = tmp_path / "save"
    out = train(data_dir, save, max_steps=6, validate_every=2, keep_last=2)
    names = sorted(p.name for p in save.iterdir())
    assert {"checkpoint_last.safetensors", "checkpoint_best.safetensors",
            "trainer_state.safetensors", "metrics.jsonl", "tokenizer.json"} <= set(names)
    assert [n for n in names if n.startswith("checkpoint_step")] == [
        "checkpoint_step4.safetensors", "checkpoint_step6.safetensors"]  # keep_last=2
    meta = read_metadata(save / "checkpoint_last.safetensors")
    assert {"model_config", "train_config", "tokenizer", "step", "epoch"} <= set(meta)
    assert meta["step"] == "6" and json.loads(meta["train_config"])["max_steps"] == 6
    assert json.loads(meta["model_config"])["decoder"] == "bahdanau"
    model, _ = model_from_checkpoint(save / "checkpoint_last.safetensors")
    state, _ = load_tensors(save / "trainer_state.safetensors")
    for name, value in model.state_dict().items():
        assert torch.equal(value, state[f"model.{name}"])
    for path in save.iterdir():  # no pickle anywhere in the save dir
        if path.is_file():
            assert not path.read_bytes()[:4].startswith(PICKLE_MAGIC), path.name
    assert "model rnn/concat/bahdanau" in out and "done: reached --max-steps 6" in out
    assert [m["step"] for m in read_metrics(save)] == [1, 2, 3, 4, 5, 6]
    assert [m["step"] for m in read_metrics(save, "valid")] == [2, 4, 6]


def test_training_reduces_loss(data_dir: Path, tmp_path: Path) -> None:
    train(data_dir, tmp_path / "s", max_steps=30, log_every=10, lr=3e-3, label_smoothing=0.0)
    losses = [m["loss"] for m in read_metrics(tmp_path / "s")]
    assert losses[-1] < losses[0] - 0.5


def test_resume_reproduces_uninterrupted_losses(data_dir: Path, tmp_path: Path) -> None:
    """fp32 CPU: dropout and scheduled sampling draw random numbers, batches span two epochs."""
    cfg = tiny_model_config(emb_dropout=0.3)
    common = {"batch_size": 64, "teacher_forcing": 0.7, "teacher_forcing_schedule": "linear",
              "teacher_forcing_steps": 8, "lr_schedule": "inverse-sqrt",
              "warmup_steps": 3}
    train(data_dir, tmp_path / "a", model_config=cfg, max_steps=10, **common)
    train(data_dir, tmp_path / "b", model_config=cfg, max_steps=5, **common)
    train(data_dir, tmp_path / "b", model_config=cfg, max_steps=10, resume=True, **common)
    full, resumed = read_metrics(tmp_path / "a"), read_metrics(tmp_path / "b")
    assert [m["step"] for m in resumed] == list(range(1, 11))
    assert [m["loss"] for m in resumed] == [m["loss"] for m in full]
    assert [m["lr"] for m in resumed] == [m["lr"] for m in full]
    a, _ = load_tensors(tmp_path / "a" / "checkpoint_last.safetensors")
    b, _ = load_tensors(tmp_path / "b" / "checkpoint_last.safetensors")
    assert all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_low_precision_paths_run_on_cpu(data_dir: Path, tmp_path: Path, precision: str) -> None:
    train(data_dir, tmp_path / "s", max_steps=3, precision=precision, keep_last=0)
    losses = [m["loss"] for m in read_metrics(tmp_path / "s")]
    assert len(losses) == 3 and all(0 < x < 10 for x in losses)
    _, meta = load_tensors(tmp_path / "s" / "trainer_state.safetensors")
    scaler = json.loads(meta["progress"])["scaler"]
    assert (scaler is not None) == (precision == "fp16")


def test_update_freq_and_token_batches(data_dir: Path, tmp_path: Path) -> None:
    train(data_dir, tmp_path / "s", max_steps=2, max_tokens=400, update_freq=2, keep_last=0)
    assert len(read_metrics(tmp_path / "s")) == 2


def test_early_stopping_keeps_best_checkpoint(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nmtkit.training import trainer

    losses = iter([5.0, 4.0, 4.5, 4.2, 4.1, 3.0])

    def fake_validate(model, batches, **kwargs):
        loss = next(losses)
        return {"loss": loss, "nll_loss": loss, "ppl": 2.0**loss, "bleu": 1.0}

    monkeypatch.setattr(trainer, "validate", fake_validate)
    out = train(data_dir, tmp_path / "s", max_steps=50, validate_every=1, patience=3,
                early_stopping_metric="loss")  # fmt: skip
    assert "early stopping: no loss improvement in 3 validations" in out
    assert [m["best"] for m in read_metrics(tmp_path / "s", "valid")] == [True, True] + [False] * 3
    assert read_metadata(tmp_path / "s" / "checkpoint_best.safetensors")["step"] == "2"
    assert read_metadata(tmp_path / "s" / "checkpoint_last.safetensors")["step"] == "5"


def test_max_time_budget_stops_training(data_dir: Path, tmp_path: Path) -> None:
    out = train(data_dir, tmp_path / "s", max_steps=10_000, max_time="0.5s", log_every=1000)
    assert "done: reached --max-time 0.5s" in out
    step = int(read_metadata(tmp_path / "s" / "checkpoint_last.safetensors")["step"])
    assert step < 10_000
    _, meta = load_tensors(tmp_path / "s" / "trainer_state.safetensors")
    assert json.loads(meta["progress"])["seconds"] >= 0.5
    # the budget is cumulative: resuming a run that spent it trains one more update only
    out = train(data_dir, tmp_path / "s", max_steps=10_000, max_time="0.5s", resume=True)
    assert "done: reached --max-time 0.5s" in out
    assert read_metadata(tmp_path / "s" / "checkpoint_last.safetensors")["step"] == str(step + 1)


def test_cosine_schedule_anneals_over_the_step_budget(data_dir: Path, tmp_path: Path) -> None:
    train(data_dir, tmp_path / "s", max_steps=8, lr=1e-3, lr_schedule="cosine", log_every=1)
    lrs = [m["lr"] for m in read_metrics(tmp_path / "s")]
    want = [1e-3 * 0.5 * (1 + math.cos(math.pi * s / 8)) for s in range(8)]
    assert lrs == pytest.approx(want)


def test_validation_bleu_with_beam_search(data_dir: Path, tmp_path: Path) -> None:
    train(data_dir, tmp_path / "s", max_steps=2, validate_every=2, valid_beam=3, keep_last=0)
    (valid,) = read_metrics(tmp_path / "s", "valid")
    assert 0.0 <= valid["bleu"] <= 100.0 and valid["ppl"] > 1.0
    assert valid["ppl"] == pytest.approx(2.718281828 ** valid["nll_loss"])
