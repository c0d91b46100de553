"""Compatibility promise: data dirs and checkpoints of every released format keep working.

Each tests/fixtures/compat/<release>/ was written by scripts/make_compat_fixture.py with that
release (expected.json records the release and its format versions). The current code must load
them and reproduce the stored greedy and beam translations exactly, and the stored model scores
(to 1e-4 nats per sentence: float32 sums may be reordered by a faster kernel, but any real change
of the model's arithmetic moves them by far more). A change that cannot keep a fixture loading
adds a converter (`nmtkit upgrade`) and a new fixture instead: see docs/compatibility.md.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "compat"
RELEASES = sorted(p.name for p in FIXTURES.iterdir() if (p / "expected.json").is_file())
SCORE_TOLERANCE = 1e-4  # nats per sentence


def _expected(release: str) -> dict:
    return json.loads((FIXTURES / release / "expected.json").read_text(encoding="utf-8"))


def _cases() -> list[tuple[str, str]]:
    return [(r, m) for r in RELEASES for m in sorted(_expected(r)["models"])]


def _save_dir(tmp_path: Path, release: str, model: str) -> Path:
    """A save dir as training leaves it: the checkpoint beside the data dir's tokenizer files."""
    from nmtkit.data.tokenizer import Tokenizer

    save = tmp_path / "save"
    save.mkdir()
    stored = FIXTURES / release / "models" / f"{model}.safetensors"
    shutil.copy(stored, save / "checkpoint.safetensors")
    Tokenizer.load(FIXTURES / release / "data").copy_to(save)
    return save / "checkpoint.safetensors"


def test_there_is_a_fixture_of_the_current_formats() -> None:
    from nmtkit.data.manifest import FORMAT_VERSION as DATA_FORMAT
    from nmtkit.io.checkpoint import FORMAT_VERSION as CHECKPOINT_FORMAT

    stored = {(_expected(r)["checkpoint_format"], _expected(r)["data_format"]) for r in RELEASES}
    assert (CHECKPOINT_FORMAT, DATA_FORMAT) in stored, (
        "a format version changed: add a fixture of the new format "
        "(scripts/make_compat_fixture.py) and keep the old ones loading (docs/compatibility.md)"
    )


@pytest.mark.parametrize(("release", "model"), _cases())
@pytest.mark.parametrize("mode", ["greedy", "beam"])
def test_stored_checkpoint_reproduces_its_translations(
    tmp_path: Path, release: str, model: str, mode: str
) -> None:
    from tests.translate.translate_helpers import translate_file

    expected = _expected(release)
    flags = {"greedy": {"greedy": True}, "beam": {"beam": 4, "lenpen": 0.6}}[mode]
    assert expected["search"][mode] == {"greedy": "--greedy", "beam": "--beam 4 --lenpen 0.6"}[mode]
    source = (FIXTURES / release / "source.txt").read_text(encoding="utf-8").splitlines()
    checkpoint = _save_dir(tmp_path, release, model)
    got = translate_file(tmp_path, [checkpoint], source, **flags)
    assert got == expected["models"][model][mode]


@pytest.mark.parametrize(("release", "model"), _cases())
def test_stored_checkpoint_reproduces_its_model_scores(
    tmp_path: Path, release: str, model: str
) -> None:
    from nmtkit.scoring.config import ModelScoreConfig
    from nmtkit.scoring.model import run_model_scoring

    expected = _expected(release)["models"][model]
    checkpoint = _save_dir(tmp_path, release, model)
    with open(tmp_path / "out.json", "w") as out, open(tmp_path / "log", "w") as log:
        scores = run_model_scoring(
            checkpoint,
            FIXTURES / release / "source.txt",
            FIXTURES / release / "target.txt",
            ModelScoreConfig(),
            as_json=True,
            out=out,
            log=log,
        )
    assert scores.lengths.tolist() == expected["lengths"]
    assert scores.logprobs.tolist() == pytest.approx(expected["logprobs"], abs=SCORE_TOLERANCE)


@pytest.mark.parametrize("release", RELEASES)
def test_stored_data_dir_reads_and_trains(tmp_path: Path, release: str) -> None:
    from nmtkit.data.binarized import Split
    from nmtkit.data.manifest import Manifest
    from nmtkit.data.tokenizer import Tokenizer
    from tests.training.conftest import tiny_model_config, train

    facts = _expected(release)["data"]
    data = shutil.copytree(FIXTURES / release / "data", tmp_path / "data")
    manifest = Manifest.load(data)
    split = Split.open(manifest.split_path("train"))
    assert len(split) == facts["train_sentences"]
    pairs = [[split.src(i).tolist(), split.tgt(i).tolist()] for i in range(3)]
    assert pairs == facts["train_first_pairs"]
    tok = Tokenizer.load(data)
    config = tiny_model_config(src_vocab_size=tok.src_vocab_size, tgt_vocab_size=tok.tgt_vocab_size)
    out = train(data, tmp_path / "save", model_config=config, max_steps=2, keep_last=0)
    assert "done: reached --max-steps 2" in out
    assert (tmp_path / "save" / "checkpoint_last.safetensors").is_file()
