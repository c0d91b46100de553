"""Binarized splits read back exactly what preprocess encoded; dtype and pickling."""

from __future__ import annotations

import pickle
from pathlib import Path

import torch

from nmtkit.data.binarized import Split, token_dtype
from nmtkit.data.manifest import Manifest
from nmtkit.data.tokenizer import Tokenizer


def test_token_dtype_is_smallest_that_fits() -> None:
    assert token_dtype(256) == torch.uint8
    assert token_dtype(257) == torch.uint16
    assert token_dtype(65536) == torch.uint16
    assert token_dtype(65537) == torch.uint32


def test_split_matches_tokenizer_encoding_of_the_inputs(tiny_data_dir: Path) -> None:
    manifest = Manifest.load(tiny_data_dir)
    tok = Tokenizer.load(tiny_data_dir)
    for name, stats in manifest.splits.items():
        split = Split.open(manifest.split_path(name))
        src_lines = Path(stats.sources[0]).read_text(encoding="utf-8").splitlines()
        tgt_lines = Path(stats.sources[1]).read_text(encoding="utf-8").splitlines()
        assert len(split) == stats.sentences == len(src_lines)
        assert [split.src(i).tolist() for i in range(len(split))] == tok.encode_src(src_lines)
        assert [split.tgt(i).tolist() for i in range(len(split))] == tok.encode_tgt(tgt_lines)
        assert split.src(0).dtype == torch.int64
        assert split.src_tokens.dtype == torch.uint16  # vocab 300 > 256
        assert split.src_lengths.tolist() == [len(x) for x in tok.encode_src(src_lines)]
        assert int(split.tgt_lengths.sum()) == stats.tgt_tokens


def test_split_pickles_by_reopening(tiny_data_dir: Path) -> None:
    split = Split.open(tiny_data_dir / "valid.safetensors")
    clone = pickle.loads(pickle.dumps(split))
    assert torch.equal(clone.tgt(3), split.tgt(3)) and len(clone) == len(split)


def test_pread_and_mapping_read_the_same_pieces(tiny_data_dir: Path) -> None:
    """src/tgt read with pread (so random training reads do not map the file into RSS); the
    mapping is the fallback where the OS has no pread: both give every pair identically."""
    split = Split.open(tiny_data_dir / "train.safetensors")
    assert split._pread
    fresh = [(split.src(i), split.tgt(i)) for i in range(len(split))]
    split._pread = False  # the fallback path
    mapped = [(split.src(i), split.tgt(i)) for i in range(len(split))]
    pairs = zip(fresh, mapped, strict=True)
    assert all(torch.equal(a, c) and torch.equal(b, d) for (a, b), (c, d) in pairs)
    assert all(a.dtype == torch.int64 and len(a) > 0 for a, _ in fresh)
