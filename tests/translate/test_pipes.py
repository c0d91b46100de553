"""Pipes: a reader that stops early (`| head`) ends nmtkit quietly; a writer that dies early gets
the lines it sent translated. Real shell pipelines with real processes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

NMTKIT = f"{sys.executable} -m nmtkit"


def pipeline(command: str, tmp_path: Path) -> tuple[list[str], str, int]:
    """Run `command 2>err | head ...` in bash; (stdout lines, nmtkit's stderr, its exit code)."""
    script = f"{command}; echo ${{PIPESTATUS[0]}} > {tmp_path}/rc"
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True)
    err = (tmp_path / "err").read_text()
    return done.stdout.splitlines(), err, int((tmp_path / "rc").read_text())


def assert_quiet(err: str) -> None:
    assert "Traceback" not in err and "BrokenPipe" not in err and "Exception" not in err, err


def test_translate_into_head_ends_quietly_and_early(tmp_path: Path, fixture_ckpt: Path) -> None:
    src = tmp_path / "src.txt"
    src.write_text("".join(f"A man walks down street {i}.\n" for i in range(400)), "utf-8")
    out, err, rc = pipeline(
        f"{NMTKIT} translate -c {fixture_ckpt} --greedy --chunk-size 20 -i {src} 2>{tmp_path}/err"
        " | head -n 3",
        tmp_path,
    )
    assert len(out) == 3
    assert_quiet(err)
    assert "translated 400 lines" not in err  # it stopped when the reader left
    assert rc == 1  # click's EPIPE exit: quiet, and not a success a script could mistake


def test_score_into_head_ends_quietly(tmp_path: Path, fixture_ckpt: Path) -> None:
    src = tmp_path / "src.txt"  # more output than a pipe buffers (64 KiB), so a write fails
    src.write_text("A man sleeps.\n" * 4000, "utf-8")
    out, err, rc = pipeline(
        f"{NMTKIT} score -c {fixture_ckpt} --src {src} --tgt {src} 2>{tmp_path}/err | head -n 1",
        tmp_path,
    )
    assert len(out) == 1 and out[0].count("\t") == 2
    assert_quiet(err)
    assert rc in (0, 1)  # 0 if every line fit in the pipe before head left


def test_translate_writes_what_a_dying_writer_sent(tmp_path: Path, fixture_ckpt: Path) -> None:
    writer = subprocess.Popen(
        [sys.executable, "-c", "import os, signal, sys; sys.stdout.write('A man.\\nTwo dogs.\\n"
         "A wom'); sys.stdout.flush(); os.kill(os.getpid(), signal.SIGKILL)"],
        stdout=subprocess.PIPE,
    )  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "nmtkit", "translate", "-c", str(fixture_ckpt), "--greedy"],
        stdin=writer.stdout, capture_output=True, text=True, check=False,
    )  # fmt: skip
    writer.stdout.close()
    assert writer.wait() < 0  # killed
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == 3  # the unterminated last line too
    assert "translated 3 lines" in done.stderr
