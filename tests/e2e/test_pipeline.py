"""The quick start on a slice, through the installed command: preprocess → train → translate →
score. Each step is a real subprocess, as a user would run it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def nmtkit(*args: str, stdin: str | None = None, cwd: Path | None = None) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "nmtkit", *args], input=stdin, capture_output=True, text=True,
        cwd=cwd, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


def test_quickstart_pipeline_on_a_slice(tiny_corpus_dir: Path, tmp_path: Path) -> None:
    data, model = tmp_path / "data", tmp_path / "model"
    c = tiny_corpus_dir
    nmtkit("preprocess", "-s", "en", "-t", "de", "--train", str(c / "train"), "--valid",
           str(c / "val"), "--test", str(c / "test_2016_flickr"), "--vocab-size", "300",
           "--out", str(data))
    assert json.loads((data / "manifest.json").read_text())["src_lang"] == "en"

    nmtkit("train", str(data), "--save-dir", str(model), "--max-steps", "6", "--batch-size", "32",
           "--emb-size", "32", "--encoder-hidden-size", "32", "--decoder-hidden-size", "64",
           "--validate-every", "3", "--precision", "bf16", "--threads", "1")
    ckpt = model / "checkpoint_best.safetensors"
    assert ckpt.is_file() and (model / "checkpoint_last.safetensors").is_file()

    source = (c / "test_2016_flickr.en").read_text(encoding="utf-8").splitlines()[:20]
    source[3] = ""  # an empty line must give an empty output line
    hyps = nmtkit("translate", "-c", str(ckpt), "--beam", "2", stdin="\n".join(source) + "\n")
    lines = hyps.split("\n")[:-1]
    assert len(lines) == len(source)
    assert lines[3] == ""

    hyp_file, ref_file = tmp_path / "hyp.de", tmp_path / "ref.de"
    hyp_file.write_text(hyps, encoding="utf-8")
    refs = (c / "test_2016_flickr.de").read_text(encoding="utf-8").splitlines()[:20]
    ref_file.write_text("\n".join(refs) + "\n", encoding="utf-8")
    report = json.loads(nmtkit("score", "--ref", str(ref_file), str(hyp_file), "--json"))
    text = json.dumps(report)
    assert "BLEU" in text and "chrF" in text
