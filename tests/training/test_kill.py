"""Real SIGKILLs of a real `nmtkit train` process, aimed at checkpoint writes and at random times.

A SIGKILL runs no cleanup code, so this is what a crash, an OOM kill or a preempted machine does.
After every kill: checkpoint_last loads and translates; the next `--resume` removes the temp file
the kill left, resumes from trainer_state's step (and says so when checkpoint_last is one save
ahead); and the run finally finishes with weights bit-equal to an uninterrupted run's, which is
only possible if every resume started from a consistent weights + optimizer + RNG state.
scripts/kill_train.py does the same hundreds of times.
"""

from __future__ import annotations

import random
import subprocess
from pathlib import Path

import pytest

from tests.training import killing as K

MAX_STEPS = 10


@pytest.mark.slow
def test_sigkill_at_checkpoint_writes_and_random_moments_resumes_exactly(
    tiny_data_dir: Path, tmp_path: Path
) -> None:
    ref_save, save, log = tmp_path / "reference", tmp_path / "save", tmp_path / "train.log"
    reference = K.start(K.train_command(tiny_data_dir, ref_save, MAX_STEPS, resume=False),
                        tmp_path / "reference.log")  # fmt: skip
    rng = random.Random(0)
    resume, expected_step, expected_note = False, 0, False
    for kill in ("between_renames", "last_write", "random", "step_write"):
        stale, when = K.temp_files(save), K.moment(kill, save, rng)
        proc = K.start(K.train_command(tiny_data_dir, save, MAX_STEPS, resume=resume), log)
        killed = K.kill_at(proc, when)
        assert killed, f"{kill}: train finished first: {log.read_text()[-2000:]}"
        out = log.read_text()
        if resume:  # the previous kill's temp files are gone, and the resume said where it began
            assert not set(stale) & set(K.temp_files(save)), kill
            assert f"resuming from step {expected_step}" in out
            if expected_note:
                assert "stopped between the two writes" in out
        K.check_checkpoint_translates(save, ["A man sleeps.", "", "Two dogs run."], tmp_path)
        expected_step, last = K.state_step(save), K.last_step(save)
        expected_note = last != expected_step
        assert last >= expected_step  # checkpoint_last is never behind its trainer state
        if kill == "between_renames":
            assert expected_note  # killed while trainer_state was written: last one save ahead
        log.write_text("")
        resume = True
    done = subprocess.run(K.train_command(tiny_data_dir, save, MAX_STEPS, resume=True),
                          capture_output=True, text=True, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"resuming from step {expected_step}" in done.stdout + done.stderr
    assert reference.wait() == 0
    assert K.temp_files(save) == []
    assert K.last_step(save) == MAX_STEPS
    for name in (K.LAST, "checkpoint_avg.safetensors"):
        assert K.same_weights(save / name, ref_save / name), name
