"""Against the `sacrebleu` command itself: same inputs and options → same numbers and signatures."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.scoring.scoring_data import DATASETS, write_lines

SACREBLEU = Path(sys.executable).parent / "sacrebleu"
pytestmark = pytest.mark.skipif(not SACREBLEU.exists(), reason="sacrebleu command not installed")


def sacrebleu(*args: str | Path) -> str:
    env = {**os.environ, "NO_COLOR": "1"}
    proc = subprocess.run(
        [str(SACREBLEU), *map(str, args), "-q"], capture_output=True, text=True, env=env
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_single_system_matches_sacrebleu_text_output(dataset_files, score_json):
    hyp, refs, _, _ = dataset_files("multiref_empty")
    out = sacrebleu(
        *refs, "-i", hyp, "-m", "bleu", "chrf", "ter", "-f", "text", "-w", "3",
        "-lc", "--chrf-lowercase", "--chrf-word-order", "2", "--tokenize", "intl",
    )  # fmt: skip
    want = []
    for line in out.strip().splitlines():
        m = re.match(r"\s*([^|]+)\|(\S+) = ([0-9.]+)", line)
        assert m, line
        want.append((m.group(1), m.group(2), m.group(3)))
    payload = score_json(
        "-r", refs[0], "-r", refs[1], hyp, "-w", "3", "--lowercase",
        "--chrf-word-order", "2", "--tokenize", "intl",
    )  # fmt: skip
    got = [
        (s["name"], s["signature"], f"{s['score']:.3f}") for s in payload["systems"][0]["scores"]
    ]
    assert got == want


def test_paired_bootstrap_matches_sacrebleu_table(tmp_path, score_json):
    hyps, (refs,) = DATASETS["simple"]
    hyps, refs = hyps * 5, refs * 5
    ref = write_lines(tmp_path / "ref.txt", refs)
    base = write_lines(tmp_path / "base.txt", ["the a"] * 10 + hyps[10:])
    mid = write_lines(tmp_path / "mid.txt", ["the cat"] * 5 + hyps[5:])
    good = write_lines(tmp_path / "good.txt", hyps)
    out = sacrebleu(
        ref, "-i", base, mid, good, "-m", "bleu", "chrf", "--paired-bs", "--paired-bs-n", "100",
        "-f", "text", "-w", "2",
    )  # fmt: skip
    want_p = re.findall(r"\(p = ([0-9.]+)\)", out)
    want_cells = re.findall(r"([0-9.]+ \([0-9.]+ ± [0-9.]+\))", out)
    payload = score_json(
        "--ref", ref, base, mid, good, "-m", "bleu,chrf", "--paired-n", "100", "-w", "2"
    )
    scores = [s for system in payload["systems"] for s in system["scores"]]
    got_p = [f"{s['p_value']:.4f}" for s in scores if "p_value" in s]
    got_cells = [
        f"{s['score']:.2f} ({s['confidence_mean']:.2f} ± {s['confidence_ci']:.2f})" for s in scores
    ]
    assert len(want_p) == 4 and got_p == want_p
    assert got_cells == want_cells
    for s in payload["systems"][0]["scores"]:
        assert f"{s['name']:<10} {s['signature']}" in out
