"""Shared fixtures: a tiny preprocessed data directory cut from the bundled Multi30k corpus."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "examples" / "multi30k" / "data"
TINY_SIZES = {"train": 400, "val": 50, "test_2016_flickr": 50}
TINY_VOCAB = 300


def corpus_file(name: str) -> Path:
    """A bundled corpus file (examples/multi30k/data/NAME.gz)."""
    path = CORPUS / f"{name}.gz"
    if not path.is_file():  # pragma: no cover - only if the checkout is incomplete
        pytest.skip(f"bundled corpus missing: {path}")
    return path


def head_lines(name: str, n: int) -> list[str]:
    """First n lines (without newline) of a bundled corpus file."""
    out: list[str] = []
    with gzip.open(corpus_file(name), "rt", encoding="utf-8", newline="\n") as f:
        for line in f:
            out.append(line.rstrip("\n"))
            if len(out) == n:
                break
    return out


def write_slice(directory: Path, sizes: dict[str, int] = TINY_SIZES) -> Path:
    """Write plain-text slices DIR/{split}.{en,de} of the corpus; returns DIR."""
    directory.mkdir(parents=True, exist_ok=True)
    for split, n in sizes.items():
        for lang in ("en", "de"):
            lines = head_lines(f"{split}.{lang}", n)
            (directory / f"{split}.{lang}").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return directory


@pytest.fixture(scope="session")
def tiny_corpus_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Plain-text slice: train (400 pairs), val (50), test_2016_flickr (50), en→de."""
    return write_slice(tmp_path_factory.mktemp("tiny_corpus"))


@pytest.fixture(scope="session")
def tiny_data_dir(tmp_path_factory: pytest.TempPathFactory, tiny_corpus_dir: Path) -> Path:
    """Preprocessed data dir: joint unigram vocab 300; splits train, valid, test_2016_flickr.

    Session-scoped and read-only by convention: copy it (shutil.copytree) before changing it.
    """
    from nmtkit.data.preprocess import PreprocessConfig, run

    out = tmp_path_factory.mktemp("tiny_data") / "data"
    cfg = PreprocessConfig(
        source_lang="en",
        target_lang="de",
        train=str(tiny_corpus_dir / "train"),
        valid=str(tiny_corpus_dir / "val"),
        test=[str(tiny_corpus_dir / "test_2016_flickr")],
        out=str(out),
        vocab_size=TINY_VOCAB,
    )
    run(cfg)
    return out


@pytest.fixture
def fixture_ckpt(tmp_path: Path) -> Path:
    """The compatibility fixture's GRU model (tiny and fast), beside its tokenizer, in tmp_path."""
    import shutil

    compat = Path(__file__).resolve().parent / "fixtures" / "compat" / "v0.1.0"
    save = tmp_path / "model"
    save.mkdir()
    for name in ("spm.model", "tokenizer.json"):
        shutil.copy(compat / "data" / name, save / name)
    shutil.copy(compat / "models" / "gru_bahdanau_concat.safetensors", save / "ckpt.safetensors")
    return save / "ckpt.safetensors"
