"""A model trained with a plugin component is usable by every subcommand that loads a model.

Everything runs through the real `nmtkit` command in subprocesses: registering the plugin inside
this process would leak it into the registry-parametrised tests of the session.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = str(ROOT / "examples" / "plugins" / "cosine.py")
NMTKIT = [sys.executable, "-m", "nmtkit"]
TINY = ["--emb-size", "16", "--encoder-hidden-size", "8", "--decoder-hidden-size", "16",
        "--encoder-layers", "1", "--decoder-layers", "1", "--batch-size", "64",
        "--device", "cpu", "--precision", "fp32", "--threads", "1"]  # fmt: skip

pytestmark = pytest.mark.slow


def nmtkit(*args: str | Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*NMTKIT, *map(str, args)], input=stdin, capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def plugin_run(tiny_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A save dir of a cosine-attention model (from examples/plugins) with two step checkpoints."""
    save = tmp_path_factory.mktemp("plugin_run")
    proc = nmtkit("train", tiny_data_dir, "--save-dir", save, "--user-dir", PLUGIN,
                  "--attention", "cosine", "--max-steps", "2", "--validate-every", "1",
                  "--keep-last", "2", *TINY)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return save


@pytest.fixture(scope="module")
def pair_files(plugin_run: Path, tiny_corpus_dir: Path) -> tuple[Path, Path]:
    src, tgt = plugin_run / "pairs.en", plugin_run / "pairs.de"
    for side, path in (("en", src), ("de", tgt)):
        lines = (tiny_corpus_dir / f"val.{side}").read_text(encoding="utf-8").splitlines()[:3]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return src, tgt


def test_translate_loads_a_plugin_model_with_user_dir(plugin_run, pair_files):
    source = pair_files[0].read_text(encoding="utf-8")
    ckpt = plugin_run / "checkpoint_last.safetensors"
    ok = nmtkit("translate", "-c", ckpt, "--user-dir", PLUGIN, "--greedy", "--max-len-a", "0",
                "--max-len-b", "4", stdin=source)  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    assert len(ok.stdout.splitlines()) == 3
    without = nmtkit("translate", "-c", ckpt, stdin=source)
    assert without.returncode == 2 and without.stdout == ""
    assert len(without.stderr.splitlines()) == 1 and "cosine" in without.stderr


def test_score_loads_a_plugin_model_with_user_dir(plugin_run, pair_files):
    src, tgt = pair_files
    ckpt = plugin_run / "checkpoint_last.safetensors"
    ok = nmtkit("score", "-c", ckpt, "--src", src, "--tgt", tgt, f"--user-dir={PLUGIN}")
    assert ok.returncode == 0, ok.stderr
    rows = [line.split("\t") for line in ok.stdout.splitlines()]
    assert len(rows) == 3 and all(float(r[0]) < 0 for r in rows)
    without = nmtkit("score", "-c", ckpt, "--src", src, "--tgt", tgt)
    assert without.returncode == 2 and "cosine" in without.stderr


def test_average_of_plugin_checkpoints_translates(plugin_run, pair_files):
    steps = sorted(plugin_run.glob("checkpoint_step*.safetensors"))
    assert len(steps) == 2
    out = plugin_run / "avg" / "average.safetensors"
    avg = nmtkit("average", *steps, "-o", out, "--user-dir", PLUGIN)
    assert avg.returncode == 0, avg.stderr
    src, tgt = pair_files
    scored = nmtkit("score", "-c", out, "--src", src, "--tgt", tgt, "--user-dir", PLUGIN)
    assert scored.returncode == 0, scored.stderr
    assert len(scored.stdout.splitlines()) == 3
