"""`nmtkit translate` as users run it: stdin/stdout, exit codes, one-line errors."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys

import pytest
import torch
from typer.testing import CliRunner

from nmtkit.cli import build_app

NMTKIT = [sys.executable, "-m", "nmtkit"]


def test_cli_reads_stdin_and_writes_translations_only(tiny_checkpoint, source_lines):
    lines = [source_lines[0], "", source_lines[1]]
    result = CliRunner().invoke(
        build_app(["translate"]),
        ["translate", "-c", str(tiny_checkpoint), "--beam", "2", "--nbest", "2"],
        input="\n".join(lines) + "\n",
    )
    assert result.exit_code == 0, result.output
    rows = result.stdout.split("\n")[:-1]
    assert [r.split("\t")[0] for r in rows] == ["0", "0", "1", "2", "2"]


def test_cli_bad_checkpoint_is_one_line_exit_2(tmp_path):
    bad = tmp_path / "model.safetensors"
    bad.write_bytes(b"\x80\x04garbage")
    proc = subprocess.run(
        [*NMTKIT, "translate", "-c", str(bad)],
        input=b"hello\n",
        capture_output=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stdout == b""
    err = proc.stderr.decode().strip().splitlines()
    assert len(err) == 1 and "refusing a pickle" in err[0] and str(bad) in err[0]


def test_cli_terminal_input_is_translated_line_by_line(tiny_checkpoint):
    """With a terminal on stdin, a line's translation appears before the next line is typed."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [*NMTKIT, "translate", "-c", str(tiny_checkpoint), "--greedy"],
        stdin=follower,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    os.close(follower)
    try:
        os.write(leader, b"a dog runs\n")
        ready, _, _ = select.select([proc.stdout], [], [], 60)
        assert ready, "no output before end of input"
        first = proc.stdout.readline()
        assert first.endswith(b"\n")
        os.write(leader, b"\x04")  # end of input (Ctrl-D)
        proc.wait(timeout=60)
        assert proc.returncode == 0
    finally:
        os.close(leader)
        if proc.poll() is None:
            proc.kill()


def test_cli_device_defaults_to_auto_which_is_the_cpu_here(tiny_checkpoint, source_lines):
    """No --device: `auto` runs, through the same selection that picks CUDA where it exists."""
    from nmtkit.hardware import cpu_has_native_bf16

    if torch.cuda.is_available():  # pragma: no cover - CI machines have no GPU
        pytest.skip("this machine has CUDA")
    proc = subprocess.run(
        [*NMTKIT, "translate", "-c", str(tiny_checkpoint), "--greedy"],
        input=source_lines[0] + "\n",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    precision = "bf16" if cpu_has_native_bf16() else "fp32"
    assert f"checkpoint(s) on cpu, {precision})" in proc.stderr
    assert len(proc.stdout.splitlines()) == 1


@pytest.mark.slow
def test_cli_ensemble_of_models_with_different_tokenizers_names_both(
    tiny_checkpoint, tiny_corpus_dir, tmp_path
):
    """Each model has its own correct tokenizer; the ensemble is what is wrong, and is named."""
    from nmtkit.checkpoint_tokenizer import tokenizer_for
    from nmtkit.data.preprocess import PreprocessConfig, run
    from nmtkit.errors import UsageError
    from tests.training.conftest import tiny_model_config, train

    data = tmp_path / "data_200"
    run(PreprocessConfig(source_lang="en", target_lang="de", train=str(tiny_corpus_dir / "train"),
                         valid=str(tiny_corpus_dir / "val"), out=str(data), vocab_size=200))
    save = tmp_path / "run_200"
    train(data, save, model_config=tiny_model_config(src_vocab_size=200, tgt_vocab_size=200),
          max_steps=1, validate_every=0)  # fmt: skip
    a, b = tiny_checkpoint, save / "checkpoint_last.safetensors"
    proc = subprocess.run(
        [*NMTKIT, "translate", "-c", str(a), "-c", str(b)],
        input=b"a dog runs\n", capture_output=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 2 and proc.stdout == b""
    err = proc.stderr.decode().strip().splitlines()
    assert len(err) == 1, err
    assert f"{a} and {b} were trained with different tokenizers" in err[0]
    assert "an ensemble needs models that share one" in err[0]
    with pytest.raises(UsageError, match="different tokenizers"):  # either order
        tokenizer_for([b, a])
