"""Sharded data directories: --shard-size, --append, old single-file directories, training."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from nmtkit.data.manifest import Manifest
from nmtkit.data.preprocess import PreprocessConfig, run
from nmtkit.data.shards import open_split
from nmtkit.errors import UsageError
from nmtkit.io.checkpoint import load_tensors, save_tensors
from tests.training.conftest import read_metrics, train

SHARD = 150


def pairs(data_dir: Path, split: str = "train") -> list[tuple[list[int], list[int]]]:
    s = open_split(Manifest.load(data_dir), split)
    return [(s.src(i).tolist(), s.tgt(i).tolist()) for i in range(len(s))]


def write_corpus(directory: Path, source: Path, start: int, stop: int) -> Path:
    """Lines [start, stop) of the tiny corpus's train files as DIR/train.{en,de}."""
    directory.mkdir(parents=True, exist_ok=True)
    for lang in ("en", "de"):
        lines = (source / f"train.{lang}").read_text(encoding="utf-8").splitlines()[start:stop]
        (directory / f"train.{lang}").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return directory / "train"


def cfg(tok_dir: Path, train_prefix: Path | str, out: Path, **changes: object) -> PreprocessConfig:
    values: dict = dict(source_lang="en", target_lang="de", train=str(train_prefix), out=str(out),
                        spm_model=str(tok_dir))  # fmt: skip
    values.update(changes)
    return PreprocessConfig(**values)


@pytest.fixture(scope="module")
def sharded_dir(tmp_path_factory: pytest.TempPathFactory, tiny_data_dir: Path,
                tiny_corpus_dir: Path) -> Path:  # fmt: skip
    """The tiny data dir again (same tokenizer), its train split in shards of 150 pairs."""
    out = tmp_path_factory.mktemp("sharded") / "data"
    run(cfg(tiny_data_dir, tiny_corpus_dir / "train", out, valid=str(tiny_corpus_dir / "val"),
            shard_size=SHARD))  # fmt: skip
    return out


def test_shards_hold_the_unsharded_pairs_in_order(sharded_dir: Path, tiny_data_dir: Path) -> None:
    manifest = Manifest.load(sharded_dir)
    train_stats = manifest.splits["train"]
    n = train_stats.sentences
    assert [s["sentences"] for s in train_stats.shards] == [SHARD, SHARD, n - 2 * SHARD]
    assert train_stats.files == ["train.safetensors", "train.00001.safetensors",
                                 "train.00002.safetensors"]  # fmt: skip
    assert all((sharded_dir / f).is_file() for f in train_stats.files)
    assert manifest.format_version == 2  # several shards: older nmtkit must refuse it
    assert pairs(sharded_dir) == pairs(tiny_data_dir)
    assert pairs(sharded_dir, "valid") == pairs(tiny_data_dir, "valid")
    split = open_split(manifest, "train")
    assert split.src_lengths.dtype == torch.int16  # compact per-pair index: 2 bytes a side
    assert int(split.src_lengths.sum()) == train_stats.src_tokens
    assert Manifest.load(tiny_data_dir).format_version == 1  # one shard: still version 1


def test_training_on_shards_equals_training_unsharded(
    sharded_dir: Path, tiny_data_dir: Path, tmp_path: Path
) -> None:
    train(tiny_data_dir, tmp_path / "one", max_steps=4, keep_last=0)
    train(sharded_dir, tmp_path / "many", max_steps=4, keep_last=0)
    a, _ = load_tensors(tmp_path / "one" / "checkpoint_last.safetensors")
    b, _ = load_tensors(tmp_path / "many" / "checkpoint_last.safetensors")
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_resume_mid_epoch_on_shards_is_bit_equal(sharded_dir: Path, tmp_path: Path) -> None:
    """fp32: stopped by --max-steps inside the first epoch (about 13 updates), then resumed.

    The schedule must not depend on the step budget (cosine anneals over --max-steps)."""
    common = {"batch_size": 32, "validate_every": 2, "keep_last": 1,
              "lr_schedule": "inverse-sqrt", "warmup_steps": 2}  # fmt: skip
    train(sharded_dir, tmp_path / "a", max_steps=7, **common)
    train(sharded_dir, tmp_path / "b", max_steps=3, **common)
    train(sharded_dir, tmp_path / "b", max_steps=7, resume=True, **common)
    full, resumed = read_metrics(tmp_path / "a"), read_metrics(tmp_path / "b")
    assert [m["epoch"] for m in full] == [1] * 7  # all inside the first epoch
    assert [m["loss"] for m in resumed] == [m["loss"] for m in full]
    def valid(run: str) -> dict[int, tuple]:
        return {m["step"]: (m["loss"], m["bleu"]) for m in read_metrics(tmp_path / run, "valid")}

    resumed_valid = valid("b")  # also validated when it stopped at step 3
    assert {k: resumed_valid[k] for k in valid("a")} == valid("a")
    a, _ = load_tensors(tmp_path / "a" / "checkpoint_last.safetensors")
    b, _ = load_tensors(tmp_path / "b" / "checkpoint_last.safetensors")
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_append_equals_preprocessing_the_concatenation(
    tiny_data_dir: Path, tiny_corpus_dir: Path, tmp_path: Path
) -> None:
    first = write_corpus(tmp_path / "a", tiny_corpus_dir, 0, 250)
    second = write_corpus(tmp_path / "b", tiny_corpus_dir, 250, 400)
    out = tmp_path / "data"
    run(cfg(tiny_data_dir, first, out, shard_size=100))
    before = Manifest.load(out)
    manifest = run(cfg(tiny_data_dir, second, out, spm_model=None, append=True, shard_size=100))
    whole = tmp_path / "whole"
    run(cfg(tiny_data_dir, tiny_corpus_dir / "train", whole))
    assert pairs(out) == pairs(whole)
    stats, ref = manifest.splits["train"], Manifest.load(whole).splits["train"]
    for key in ("read", "sentences", "src_tokens", "tgt_tokens", "src_unk", "src_max_len"):
        assert getattr(stats, key) == getattr(ref, key), key
    assert stats.sources == [*before.splits["train"].sources, f"{second}.en", f"{second}.de"]
    assert [s["file"] for s in stats.shards][3:] == ["train.00003.safetensors",
                                                     "train.00004.safetensors"]  # fmt: skip
    assert Manifest.load(out) == manifest


def test_failed_append_leaves_the_directory_as_it_was(
    tiny_data_dir: Path, tiny_corpus_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "data"
    run(cfg(tiny_data_dir, write_corpus(tmp_path / "a", tiny_corpus_dir, 0, 100), out))
    before = (out / "manifest.json").read_bytes()
    bad = write_corpus(tmp_path / "b", tiny_corpus_dir, 100, 400)
    with open(f"{bad}.de", "ab") as f:
        f.write(b"\xff broken\n")
    with open(f"{bad}.en", "a") as f:
        f.write("broken\n")
    with pytest.raises(UsageError, match="invalid UTF-8"):
        run(cfg(tiny_data_dir, bad, out, spm_model=None, append=True, shard_size=100))
    assert (out / "manifest.json").read_bytes() == before
    assert len(pairs(out)) == Manifest.load(out).splits["train"].sentences
    with pytest.raises(UsageError, match="training data only"):
        run(cfg(tiny_data_dir, bad, out, append=True))  # --spm-model given


def test_single_file_directory_of_format_1_still_loads(
    tiny_data_dir: Path, tmp_path: Path
) -> None:
    """A directory as nmtkit wrote it before shards: no `shards`, no stored lengths."""
    old = tmp_path / "old"
    shutil.copytree(tiny_data_dir, old)
    for path in old.glob("*.safetensors"):
        tensors, meta = load_tensors(path)
        keep = {k: v for k, v in tensors.items() if not k.endswith("_lengths")}
        save_tensors(path, keep, {"format": meta["format"]})
    data = json.loads((old / "manifest.json").read_text())
    data.pop("tokenizer_source")
    for stats in data["splits"].values():
        stats.pop("shards")
    (old / "manifest.json").write_text(json.dumps(data))
    assert pairs(old) == pairs(tiny_data_dir)
    new_split = open_split(Manifest.load(tiny_data_dir), "train")
    old_split = open_split(Manifest.load(old), "train")
    assert torch.equal(old_split.src_lengths, new_split.src_lengths)
    assert torch.equal(old_split.tgt_lengths, new_split.tgt_lengths)
