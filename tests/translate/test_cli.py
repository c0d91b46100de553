"""`nmtkit translate` as users run it: stdin/stdout, exit codes, one-line errors."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys

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
