"""The stored sharded data directory (format 2, tests/fixtures/sharded_v2) keeps loading."""

from __future__ import annotations

from pathlib import Path

from nmtkit.data.manifest import Manifest
from nmtkit.data.shards import open_split
from nmtkit.data.tokenizer import Tokenizer

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "sharded_v2"


def test_stored_sharded_directory_reads_back_its_corpus() -> None:
    manifest = Manifest.load(FIXTURE / "data")
    assert manifest.format_version == 2
    assert [s["sentences"] for s in manifest.splits["train"].shards] == [25, 25, 10]
    assert manifest.tokenizer_source["special_ids"] == [-1, 0, 1, 2]
    tok = Tokenizer.load(FIXTURE / "data")
    split = open_split(manifest, "train")
    src = (FIXTURE / "train.en").read_text(encoding="utf-8").splitlines()
    tgt = (FIXTURE / "train.de").read_text(encoding="utf-8").splitlines()
    assert len(split) == len(src) == 60
    assert [split.src(i).tolist() for i in range(60)] == tok.encode_src(src)
    assert [split.tgt(i).tolist() for i in range(60)] == tok.encode_tgt(tgt)
    assert split.src_lengths.tolist() == [len(x) for x in tok.encode_src(src)]
