"""`nmtkit train --resume`: omitted flags keep the run's own options; given ones override them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from nmtkit.cli.train import _flag_groups, run_train
from nmtkit.errors import UsageError
from nmtkit.io.checkpoint import FORMAT_KEY, FORMAT_VERSION, read_metadata
from nmtkit.training.state import STATE_FILE

NO_SELECTORS = {"encoder": None, "attention": None, "decoder": None, "cell": None}
FIRST_RUN = {
    "train__max_steps": 2, "train__batch_size": 32, "train__threads": 1, "train__device": "cpu",
    "train__precision": "fp32", "train__warmup_steps": 0, "train__lr": 0.01,
    "train__log_every": 1, "model__emb_size": 16, "encoder__hidden_size": 16,
    "encoder__cell": "gru", "attention__attention_size": 16, "decoder__hidden_size": 24,
    "decoder__cell": "gru",
}  # fmt: skip


def cli_train(data: Path, save: Path, flags: dict[str, Any], *, resume: bool, **selectors: str):
    run_train(data_dir=data, save_dir=save, selectors={**NO_SELECTORS, **selectors}, config=None,
              resume=resume, force=False, flags=flags, groups=_flag_groups())  # fmt: skip


def stored(save: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    meta = read_metadata(save / "checkpoint_last.safetensors")
    return json.loads(meta["model_config"]), json.loads(meta["train_config"])


@pytest.fixture()
def first_run(tiny_data_dir: Path, tmp_path: Path) -> Path:
    save = tmp_path / "save"
    cli_train(tiny_data_dir, save, FIRST_RUN, resume=False, attention="concat", decoder="bahdanau")
    return save


def test_resume_without_flags_continues_with_the_runs_options(
    tiny_data_dir: Path, first_run: Path
) -> None:
    cli_train(tiny_data_dir, first_run, {"train__max_steps": 4}, resume=True)
    model, train = stored(first_run)
    assert (model["attention"], model["decoder"], model["emb_size"]) == ("concat", "bahdanau", 16)
    assert model["decoder_options"]["hidden_size"] == 24
    assert model["encoder_options"]["cell"] == model["decoder_options"]["cell"] == "gru"
    assert (train["lr"], train["batch_size"], train["precision"]) == (0.01, 32, "fp32")
    assert train["max_steps"] == 4  # the flag overrides the run's 2
    lines = (first_run / "metrics.jsonl").read_text().splitlines()
    steps = [r["step"] for r in map(json.loads, lines) if r["kind"] == "train"]
    assert steps == [1, 2, 3, 4]


def test_resume_with_another_scorer_names_the_field(tiny_data_dir: Path, first_run: Path) -> None:
    match = r"differs from the checkpoint at attention.*'concat'.*'general'"
    with pytest.raises(UsageError, match=match):
        cli_train(tiny_data_dir, first_run, {"train__max_steps": 4}, resume=True,
                  attention="general")  # fmt: skip


def test_resume_with_the_cell_shorthand_overrides_the_runs_cells(
    tiny_data_dir: Path, first_run: Path
) -> None:
    match = r"differs from the checkpoint at \w+_options\.cell.*'gru'.*'lstm'"
    with pytest.raises(UsageError, match=match):
        cli_train(tiny_data_dir, first_run, {"train__max_steps": 4}, resume=True, cell="lstm")


def test_resume_from_a_trainer_state_without_configs_is_refused(
    tiny_data_dir: Path, tmp_path: Path
) -> None:
    import torch
    from safetensors.torch import save_file

    save = tmp_path / "save"
    save.mkdir()
    meta = {FORMAT_KEY: FORMAT_VERSION, "progress": json.dumps({"model_config": [1, 2]})}
    save_file({"x": torch.zeros(1)}, str(save / STATE_FILE), metadata=meta)
    with pytest.raises(UsageError, match="holds no model/training config"):
        cli_train(tiny_data_dir, save, {}, resume=True)
