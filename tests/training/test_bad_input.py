"""Bad input and interruptions: one clear UsageError, nothing corrupted."""

from __future__ import annotations

import json
import os
import shutil
import signal
from pathlib import Path

import pytest
import torch

from nmtkit.errors import UsageError
from nmtkit.io.atomic import DirLock
from nmtkit.io.checkpoint import load_tensors, read_metadata
from nmtkit.models.build import model_from_checkpoint
from tests.training.conftest import read_metrics, tiny_model_config, train


def test_missing_data_dir_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="data directory not found"):
        train(tmp_path / "nope", tmp_path / "save")


def test_incompatible_manifest_is_refused(data_dir: Path, tmp_path: Path) -> None:
    copy = Path(shutil.copytree(data_dir, tmp_path / "data"))
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["format_version"] = 999
    (copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(UsageError, match="format version 999"):
        train(copy, tmp_path / "save")
    assert not (tmp_path / "save" / "checkpoint_last.safetensors").exists()


def test_save_dir_with_another_run_needs_resume_or_force(data_dir: Path, tmp_path: Path) -> None:
    save = tmp_path / "save"
    train(data_dir, save, max_steps=1)
    before = (save / "checkpoint_last.safetensors").read_bytes()
    with pytest.raises(UsageError, match=r"already holds a training run.*--resume.*--force"):
        train(data_dir, save, max_steps=1)
    assert (save / "checkpoint_last.safetensors").read_bytes() == before
    train(data_dir, save, max_steps=2, force=True)
    assert [m["step"] for m in read_metrics(save)] == [1, 2]  # old run's files were replaced


def test_resume_without_a_run_is_refused(data_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="nothing to resume"):
        train(data_dir, tmp_path / "save", resume=True)


def test_resume_with_other_architecture_names_the_field(data_dir: Path, tmp_path: Path) -> None:
    train(data_dir, tmp_path / "save", max_steps=1)
    other = tiny_model_config(
        decoder_options={"cell": "gru", "layers": 1, "hidden_size": 32, "dropout": 0.0}
    )
    with pytest.raises(UsageError, match=r"decoder_options\.hidden_size.*24.*32"):
        train(data_dir, tmp_path / "save", model_config=other, max_steps=2, resume=True)


def test_second_trainer_in_same_dir_is_locked_out(data_dir: Path, tmp_path: Path) -> None:
    save = tmp_path / "save"
    with DirLock(save), pytest.raises(UsageError, match="another nmtkit process"):
        train(data_dir, save, max_steps=1)


def test_crash_during_checkpoint_write_keeps_previous(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    save = tmp_path / "save"
    train(data_dir, save, max_steps=2, keep_last=0)
    import safetensors.torch

    def dying_writer(model, filename, metadata=None, **kwargs):  # half a file, then "killed"
        Path(filename).write_bytes(b"\x00" * 100)
        raise KeyboardInterrupt

    monkeypatch.setattr(safetensors.torch, "save_model", dying_writer)
    with pytest.raises(KeyboardInterrupt):
        train(data_dir, save, max_steps=4, keep_last=0, resume=True)
    assert read_metadata(save / "checkpoint_last.safetensors")["step"] == "2"
    model_from_checkpoint(save / "checkpoint_last.safetensors")
    assert not [p for p in save.iterdir() if p.name.endswith(".tmp")]
    monkeypatch.undo()
    train(data_dir, save, max_steps=4, keep_last=0, resume=True)  # the run is still resumable
    assert read_metadata(save / "checkpoint_last.safetensors")["step"] == "4"


def _custom_handler(signum, frame):  # a handler an embedding application might have installed
    raise AssertionError("nmtkit's handler should be active during training")


def _interrupt_during_update(monkeypatch: pytest.MonkeyPatch, signum: int, at: int = 3) -> None:
    from nmtkit.training.data import TrainData

    original, calls = TrainData.batch, []

    def batch_then_signal(self, ids):
        calls.append(1)
        if len(calls) == at:  # during update `at`
            os.kill(os.getpid(), signum)
        return original(self, ids)

    monkeypatch.setattr(TrainData, "batch", batch_then_signal)


@pytest.fixture
def sigint_handler():
    """Set a known SIGINT handler for the test (the suite may run with SIGINT ignored, e.g. under
    nohup or `./scripts/test.sh &`), and put back whatever was there after."""
    before = signal.getsignal(signal.SIGINT)

    def set_handler(handler):
        signal.signal(signal.SIGINT, handler)
        return handler

    yield set_handler
    signal.signal(signal.SIGINT, before)


@pytest.mark.parametrize("found", ["default", "custom"])
def test_sigint_finishes_step_saves_and_explains_resume(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sigint_handler, found: str
) -> None:
    handler = sigint_handler(
        signal.default_int_handler if found == "default" else _custom_handler
    )
    _interrupt_during_update(monkeypatch, signal.SIGINT)
    out = train(data_dir, tmp_path / "save", max_steps=50)
    assert "interrupted by SIGINT at step 3" in out and "--resume" in out
    assert read_metadata(tmp_path / "save" / "checkpoint_last.safetensors")["step"] == "3"
    assert signal.getsignal(signal.SIGINT) is handler  # exactly the handler found, restored


def test_sigint_found_ignored_stays_ignored_and_sigterm_still_stops(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sigint_handler
) -> None:
    """A background job (`cmd &` in a script, nohup) inherits SIGINT ignored: a Ctrl-C meant for
    the foreground must not stop it. SIGTERM still stops it cleanly."""
    sigint_handler(signal.SIG_IGN)
    before_term = signal.getsignal(signal.SIGTERM)
    _interrupt_during_update(monkeypatch, signal.SIGINT)
    out = train(data_dir, tmp_path / "ignored", max_steps=5, keep_last=0)
    assert "done: reached --max-steps 5" in out and "interrupted" not in out
    assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    monkeypatch.undo()
    _interrupt_during_update(monkeypatch, signal.SIGTERM, at=2)
    out = train(data_dir, tmp_path / "term", max_steps=50, keep_last=0)
    assert "interrupted by SIGTERM at step 2" in out
    assert signal.getsignal(signal.SIGTERM) is before_term


def test_nonfinite_loss_skips_updates_then_stops(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nmtkit.training import trainer

    real, calls = trainer.model_loss, []

    def nan_from_step_3(model, batch, **kwargs):
        calls.append(1)
        loss, nll = real(model, batch, **kwargs)
        return (loss * float("nan"), nll) if len(calls) >= 3 else (loss, nll)

    monkeypatch.setattr(trainer, "model_loss", nan_from_step_3)
    with pytest.raises(trainer.TrainingDiverged, match=r"not finite for .* updates in a row"):
        train(data_dir, tmp_path / "save", max_steps=40, keep_last=0)
    assert len(calls) == trainer.NONFINITE_CHECK  # stopped at the first check after 5 bad


def test_single_nonfinite_step_is_skipped_with_a_warning(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nmtkit.training import trainer

    real, calls, weights = trainer.model_loss, [], []
    real_step = trainer.Trainer._step

    def record_step(self, tokens):
        before = [p.detach().clone() for p in self.params]
        real_step(self, tokens)
        weights.append(all(torch.equal(a, p) for a, p in zip(before, self.params, strict=True)))

    def nan_at_step_2(model, batch, **kwargs):
        calls.append(1)
        loss, nll = real(model, batch, **kwargs)
        return (loss * float("nan"), nll) if len(calls) == 2 else (loss, nll)

    monkeypatch.setattr(trainer, "model_loss", nan_at_step_2)
    monkeypatch.setattr(trainer.Trainer, "_step", record_step)
    out = train(data_dir, tmp_path / "save", max_steps=3, keep_last=0)
    assert "skipped 1 update(s)" in out
    assert weights == [False, True, False]  # only the non-finite update left weights unchanged


def test_out_of_memory_suggests_max_tokens(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nmtkit.models.seq2seq import Seq2Seq

    def oom(self, *args, **kwargs):
        raise RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate 1 TB")

    monkeypatch.setattr(Seq2Seq, "features", oom)  # the teacher-forced training path
    with pytest.raises(UsageError, match=r"out of memory.*--max-tokens"):
        train(data_dir, tmp_path / "save", max_steps=2)


def test_trainer_state_holds_no_pickle_and_restores_rng(data_dir: Path, tmp_path: Path) -> None:
    train(data_dir, tmp_path / "save", max_steps=1)
    tensors, meta = load_tensors(tmp_path / "save" / "trainer_state.safetensors")
    assert tensors["rng.torch"].dtype == torch.uint8
    assert any(k.startswith("optim.") and k.endswith(".exp_avg_sq") for k in tensors)
    progress = json.loads(meta["progress"])
    assert progress["step"] == 1 and progress["epoch_update"] == 1


def test_resume_drops_metrics_logged_after_the_checkpoint(data_dir: Path, tmp_path: Path) -> None:
    save = tmp_path / "save"
    train(data_dir, save, max_steps=2, keep_last=0)
    with open(save / "metrics.jsonl", "a") as f:  # a run killed (SIGKILL) after logging step 3
        f.write(json.dumps({"kind": "train", "step": 3, "loss": 0.0}) + "\n" + '{"kind": "tr')
    train(data_dir, save, max_steps=4, keep_last=0, resume=True)
    steps = [m["step"] for m in read_metrics(save)]
    assert steps == [1, 2, 3, 4] and read_metrics(save)[2]["loss"] > 0
