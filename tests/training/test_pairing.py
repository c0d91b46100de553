"""checkpoint_last and trainer_state carry the same run id and step; resume checks the pair."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from nmtkit.errors import UsageError
from nmtkit.io.checkpoint import read_metadata
from nmtkit.training import checkpoints as ckpt
from nmtkit.training.state import load_state
from tests.training.conftest import train


def test_both_files_carry_one_run_id_and_step(data_dir: Path, tmp_path: Path) -> None:
    save = tmp_path / "save"
    train(data_dir, save, max_steps=2, keep_last=0)
    progress = load_state(save / ckpt.STATE_FILE)[1]["progress"]
    meta = read_metadata(save / ckpt.LAST)
    assert len(progress["run_id"]) == 32 and meta["run_id"] == progress["run_id"]
    assert meta["step"] == str(progress["step"]) == "2"
    assert ckpt.check_pair(save, progress) is None
    train(data_dir, save, max_steps=3, keep_last=0, resume=True)  # the id survives a resume
    assert read_metadata(save / ckpt.LAST)["run_id"] == progress["run_id"]


def test_checkpoint_last_of_another_run_is_refused(data_dir: Path, tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    train(data_dir, a, max_steps=2, keep_last=0)
    train(data_dir, b, max_steps=2, keep_last=0)
    shutil.copy(b / ckpt.LAST, a / ckpt.LAST)
    with pytest.raises(UsageError, match="belong to different training runs"):
        train(data_dir, a, max_steps=3, keep_last=0, resume=True)


def test_a_checkpoint_last_ahead_of_the_state_is_explained(data_dir: Path, tmp_path: Path) -> None:
    """What a kill between the two renames leaves: resume from the state, and say so."""
    save, ahead = tmp_path / "save", tmp_path / "ahead"
    train(data_dir, save, max_steps=2, keep_last=0)
    shutil.copytree(save, ahead)
    train(data_dir, ahead, max_steps=3, keep_last=0, resume=True)
    shutil.copy(ahead / ckpt.LAST, save / ckpt.LAST)  # step 3 beside the step-2 state
    (save / ".trainer_state.safetensors.x1y2z3.tmp").write_bytes(b"half a file")
    out = train(data_dir, save, max_steps=3, keep_last=0, resume=True)
    assert "checkpoint_last.safetensors is at step 3 but trainer_state.safetensors at step 2" in out
    assert "resuming from step 2" in out
    assert "removed 1 temp file(s) a killed run left: .trainer_state.safetensors.x1y2z3.tmp" in out
    assert not (save / ".trainer_state.safetensors.x1y2z3.tmp").exists()
    assert read_metadata(save / ckpt.LAST)["step"] == "3"


def test_a_state_without_run_id_still_resumes(data_dir: Path, tmp_path: Path) -> None:
    assert ckpt.check_pair(tmp_path, {"step": 4}) is None  # written before run ids existed
