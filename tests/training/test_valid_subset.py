"""--valid-subset: validation on a seeded subset equals validation on a dev set of those pairs."""

from __future__ import annotations

from pathlib import Path

import torch

from nmtkit.data.manifest import Manifest
from nmtkit.data.preprocess import PreprocessConfig, run
from nmtkit.data.shards import open_split
from nmtkit.training.data import SubsetSplit
from tests.training.conftest import read_metrics, train


def test_subset_is_seeded_sorted_and_renumbered(data_dir: Path) -> None:
    valid = open_split(Manifest.load(data_dir), "valid")
    a, b = SubsetSplit(valid, 20, seed=3), SubsetSplit(valid, 20, seed=3)
    assert torch.equal(a.indices, b.indices)
    assert not torch.equal(a.indices, SubsetSplit(valid, 20, seed=4).indices)
    assert a.indices.tolist() == sorted(set(a.indices.tolist())) and len(a) == 20
    assert all(torch.equal(a.src(i), valid.src(int(a.indices[i]))) for i in range(20))
    assert torch.equal(a.tgt_lengths, valid.tgt_lengths[a.indices])


def test_valid_subset_equals_a_dev_set_of_those_pairs(
    data_dir: Path, tiny_corpus_dir: Path, tmp_path: Path
) -> None:
    valid = open_split(Manifest.load(data_dir), "valid")
    chosen = SubsetSplit(valid, 20, seed=1).indices.tolist()  # --seed 1 is the default
    for lang in ("en", "de"):
        lines = (tiny_corpus_dir / f"val.{lang}").read_text(encoding="utf-8").splitlines()
        (tmp_path / f"sub.{lang}").write_text("".join(lines[i] + "\n" for i in chosen))
    small = tmp_path / "small"
    run(PreprocessConfig(source_lang="en", target_lang="de", train=str(tiny_corpus_dir / "train"),
                         valid=str(tmp_path / "sub"), out=str(small), spm_model=str(data_dir)))
    common = {"max_steps": 2, "validate_every": 2, "keep_last": 0}
    log = train(data_dir, tmp_path / "subset", valid_subset=20, **common)
    train(small, tmp_path / "reference", **common)
    assert "validating on 20 of 50 valid pairs" in log
    got, want = read_metrics(tmp_path / "subset", "valid"), read_metrics(tmp_path / "reference",
                                                                          "valid")  # fmt: skip
    assert [(m["loss"], m["bleu"]) for m in got] == [(m["loss"], m["bleu"]) for m in want]
