"""A full disk (ENOSPC) or a file size limit (EFBIG) while nmtkit writes: one line naming the
file, a non-zero exit, nothing half-written, earlier files kept.

Real failures, not mocks: each command runs in a subprocess whose RLIMIT_FSIZE is set below the
size of the file it must write (with SIGXFSZ ignored, so the write fails with EFBIG instead of
killing the process), or writes its standard output to /dev/full (ENOSPC).
"""

from __future__ import annotations

import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest


def nmtkit(*args: str, limit: int | None = None, stdout=subprocess.PIPE, stdin=None):
    def lower_limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return subprocess.run(
        [sys.executable, "-m", "nmtkit", *args], stdout=stdout, stderr=subprocess.PIPE, text=True,
        stdin=stdin, preexec_fn=lower_limit if limit else None, check=False,
    )  # fmt: skip


def one_error_line(stderr: str) -> str:
    errors = [line for line in stderr.splitlines() if line.startswith("nmtkit: error:")]
    assert len(errors) == 1 and "Traceback" not in stderr, stderr
    return errors[0]


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


def test_translate_output_file_over_the_limit(tmp_path: Path, fixture_ckpt: Path) -> None:
    src = tmp_path / "src.txt"
    src.write_text("A man in a blue shirt.\n" * 200, encoding="utf-8")
    out = tmp_path / "out.txt"
    done = nmtkit("translate", "-c", str(fixture_ckpt), "--greedy", "-i", str(src), "-o", str(out),
                  limit=2000)  # fmt: skip
    assert done.returncode != 0
    line = one_error_line(done.stderr)
    assert str(out) in line and "File too large" in line
    assert not out.exists() and leftovers(tmp_path) == []


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_translate_to_a_full_disk(tmp_path: Path, fixture_ckpt: Path) -> None:
    src = tmp_path / "src.txt"
    src.write_text("A man.\nTwo dogs.\n", encoding="utf-8")
    with open("/dev/full", "w") as full:
        done = nmtkit("translate", "-c", str(fixture_ckpt), "--greedy", "-i", str(src), stdout=full)
    assert done.returncode != 0
    assert "No space left on device" in one_error_line(done.stderr)


def test_preprocess_over_the_limit_writes_no_data_dir(tmp_path: Path, tiny_corpus_dir) -> None:
    out = tmp_path / "data"
    for limit in (5_000, 100_000):  # an intermediate file; the sentencepiece model
        done = nmtkit("preprocess", "-s", "en", "-t", "de", "--train",
                      str(tiny_corpus_dir / "train"), "--out", str(out), "--vocab-size", "300",
                      limit=limit)  # fmt: skip
        assert done.returncode != 0
        line = one_error_line(done.stderr)
        assert f"{out}/" in line and "File too large" in line
        assert sorted(p.name for p in tmp_path.iterdir()) == []  # no data dir, no temp dir


@pytest.mark.slow
def test_checkpoint_over_the_limit_keeps_the_previous_one(tiny_data_dir: Path, tmp_path: Path):
    from nmtkit.io.checkpoint import read_metadata
    from nmtkit.models.build import model_from_checkpoint

    save = tmp_path / "save"
    flags = ["--attention", "concat", "--decoder", "bahdanau", "--emb-size", "256",
             "--encoder-hidden-size", "16", "--decoder-hidden-size", "16",
             "--max-epochs", "0", "--keep-last", "0", "--warmup-steps", "0", "--threads", "1",
             "--device", "cpu", "--precision", "fp32"]  # fmt: skip
    first = nmtkit("train", str(tiny_data_dir), "--save-dir", str(save), *flags, "--max-steps", "2")
    assert first.returncode == 0, first.stderr
    last = save / "checkpoint_last.safetensors"
    before = last.read_bytes()
    assert len(before) > 500_000 > (save / "spm.model").stat().st_size
    done = nmtkit("train", str(tiny_data_dir), "--save-dir", str(save), "--resume",
                  "--max-steps", "4", limit=400_000)  # fmt: skip
    assert done.returncode != 0
    line = one_error_line(done.stderr)
    assert str(last) in line and "File too large" in line
    assert last.read_bytes() == before and read_metadata(last)["step"] == "2"
    model_from_checkpoint(last)
    assert leftovers(save) == []
