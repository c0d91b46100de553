"""preprocess.run: round trip to normalized text, manifest counts, filters, tokenizer reuse."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import torch

from nmtkit.data.binarized import Split
from nmtkit.data.manifest import Manifest
from nmtkit.data.preprocess import PreprocessConfig, run
from nmtkit.data.specials import UNK_ID
from nmtkit.data.textio import LineReader, decode_line
from nmtkit.data.tokenizer import Tokenizer


def source_lines(path: str) -> list[str]:
    with LineReader(path) as reader:
        return [decode_line(raw) or "" for raw in reader]


def write_pair(directory: Path, name: str, src: list[str], tgt: list[str], gz: bool = False) -> str:
    for lang, lines in (("en", src), ("de", tgt)):
        data = "".join(f"{x}\n" for x in lines).encode()
        if gz:
            (directory / f"{name}.{lang}.gz").write_bytes(gzip.compress(data))
        else:
            (directory / f"{name}.{lang}").write_bytes(data)
    return str(directory / name)


def reuse_cfg(tiny_data_dir: Path, train: str, out: Path, **kw: object) -> PreprocessConfig:
    return PreprocessConfig(
        source_lang="en", target_lang="de", train=train, out=str(out),
        spm_model=str(tiny_data_dir), **kw,
    )


def test_decoding_binarized_splits_gives_normalized_input(tiny_data_dir: Path) -> None:
    manifest = Manifest.load(tiny_data_dir)
    tok = Tokenizer.load(tiny_data_dir)
    for name, stats in manifest.splits.items():
        split = Split.open(manifest.split_path(name))
        src_in, tgt_in = source_lines(stats.sources[0]), source_lines(stats.sources[1])
        checked = 0
        for i in range(len(split)):
            src, tgt = split.src(i), split.tgt(i)
            if name == "train" or not bool((src == UNK_ID).any() | (tgt == UNK_ID).any()):
                assert tok.decode_src([src.tolist()]) == [tok.normalize_src(src_in[i])]
                assert tok.decode_tgt([tgt.tolist()]) == [tok.normalize_tgt(tgt_in[i])]
                checked += 1
        assert checked >= len(split) - 5  # only the few lines with unseen characters skipped
        assert stats.read == len(src_in) == len(split)  # valid/test keep every line


def test_manifest_counts_match_data(tiny_data_dir: Path) -> None:
    manifest = Manifest.load(tiny_data_dir)
    tok = Tokenizer.load(tiny_data_dir)
    assert manifest.src_vocab_size == manifest.tgt_vocab_size == tok.src_vocab_size == 300
    assert manifest.joint and manifest.specials["pad"] == 0 and manifest.specials["eos"] == 3
    assert manifest.tokenizer["src_sha256"] == tok.src_sha256
    assert list(manifest.splits) == ["train", "valid", "test_2016_flickr"]
    for name, stats in manifest.splits.items():
        split = Split.open(manifest.split_path(name))
        assert stats.sentences == len(split)
        assert stats.src_tokens == int(split.src_lengths.sum()) == len(split.src_tokens)
        assert stats.tgt_tokens == int(split.tgt_lengths.sum())
        assert stats.src_max_len == int(split.src_lengths.max())
        assert stats.src_unk == int((split.src_tokens.to(torch.int64) == UNK_ID).sum())
        assert stats.tgt_unk == int((split.tgt_tokens.to(torch.int64) == UNK_ID).sum())
    on_disk = json.loads((tiny_data_dir / "manifest.json").read_text())
    assert on_disk["splits"]["valid"]["sentences"] == manifest.splits["valid"].sentences == 50


def expected_reason(ls: int, lt: int, max_len: int, ratio: float) -> str | None:
    if ls == 0 or lt == 0:
        return "empty"
    if ls > max_len or lt > max_len:
        return "too_long"
    if max(ls, lt) > ratio * min(ls, lt):
        return "ratio"
    return None


def test_filters_drop_exactly_what_they_should(tiny_data_dir: Path, tmp_path: Path) -> None:
    tok = Tokenizer.load(tiny_data_dir)
    src = ["a man", "", "   ", "two dogs run", "a " * 40, "one", "Ein Hund", "x y z", "a"]
    tgt = ["ein Mann", "leer", "", "zwei Hunde rennen schnell im Park", "ein", "eins " * 12,
           "a dog", "x y z", "ein Mann und eine Frau"]
    train = write_pair(tmp_path, "train", src, tgt)
    valid = write_pair(tmp_path, "valid", src, tgt)
    cfg = reuse_cfg(tiny_data_dir, train, tmp_path / "out", valid=valid, max_len=20,
                    max_len_ratio=3.0)
    manifest = run(cfg)
    s_ids, t_ids = tok.encode_src(src), tok.encode_tgt(tgt)
    reasons = [expected_reason(len(s), len(t), 20, 3.0) for s, t in zip(s_ids, t_ids, strict=True)]
    assert {"empty", "too_long", "ratio", None} <= set(reasons)  # the corpus exercises each filter
    stats = manifest.splits["train"]
    for reason in ("empty", "too_long", "ratio"):
        assert stats.dropped[reason] == reasons.count(reason), reason
    split = Split.open(manifest.split_path("train"))
    kept = [i for i, r in enumerate(reasons) if r is None]
    assert [split.src(k).tolist() for k in range(len(split))] == [s_ids[i] for i in kept]
    assert stats.read == len(src) and stats.sentences == len(kept)
    valid_split = Split.open(manifest.split_path("valid"))  # valid is never filtered
    assert len(valid_split) == len(src) and manifest.splits["valid"].dropped == {}


def test_spm_model_reuse_gives_identical_ids(tiny_data_dir: Path, tmp_path: Path) -> None:
    before = Manifest.load(tiny_data_dir)
    srcs = before.splits["valid"].sources
    prefix = srcs[0][: -len(".en")]
    for i, reuse in enumerate([tiny_data_dir, tiny_data_dir / "spm.model"]):
        out = tmp_path / f"out{i}"
        run(PreprocessConfig(source_lang="en", target_lang="de", train=prefix, out=str(out),
                             spm_model=str(reuse), max_len=0, max_len_ratio=0.0))
        old = Split.open(tiny_data_dir / "valid.safetensors")
        new = Split.open(out / "train.safetensors")
        assert torch.equal(old.src_tokens, new.src_tokens)
        assert torch.equal(old.tgt_offsets, new.tgt_offsets)
        assert Tokenizer.load(out).src_sha256 == Tokenizer.load(tiny_data_dir).src_sha256


def test_workers_give_identical_output(tiny_data_dir: Path, tmp_path: Path) -> None:
    prefix = Manifest.load(tiny_data_dir).splits["train"].sources[0][: -len(".en")]
    outs = []
    for workers in (1, 2):
        out = tmp_path / f"w{workers}"
        run(reuse_cfg(tiny_data_dir, prefix, out, workers=workers, chunk_size=37))
        outs.append(Split.open(out / "train.safetensors"))
    assert torch.equal(outs[0].src_tokens, outs[1].src_tokens)
    assert torch.equal(outs[0].tgt_offsets, outs[1].tgt_offsets)


def test_gzip_and_odd_line_breaks_are_normalized(tiny_data_dir: Path, tmp_path: Path) -> None:
    src = ["\ufeffa man\r", "two\u2028dogs", "a\rcat"]
    tgt = ["ein Mann\r", "zwei\x0cHunde", "eine Katze"]
    train = write_pair(tmp_path, "train", src, tgt, gz=True)
    manifest = run(reuse_cfg(tiny_data_dir, train, tmp_path / "out", max_len=0, max_len_ratio=0.0))
    tok = Tokenizer.load(tmp_path / "out")
    split = Split.open(manifest.split_path("train"))
    assert len(split) == 3
    got = tok.decode_src([split.src(i).tolist() for i in range(3)])
    assert got == ["a man", "two dogs", "a cat"]


def test_separate_vocabularies(
    tiny_corpus_dir: Path, tiny_data_dir: Path, tmp_path: Path
) -> None:
    cfg = PreprocessConfig(source_lang="en", target_lang="de", train=str(tiny_corpus_dir / "train"),
                           out=str(tmp_path / "sep"), joint=False, vocab_size=200,
                           model_type="bpe")
    manifest = run(cfg)
    info = json.loads((tmp_path / "sep" / "tokenizer.json").read_text())
    assert (info["src_model"], info["tgt_model"]) == ("spm.en.model", "spm.de.model")
    assert not manifest.joint and manifest.src_vocab_size == manifest.tgt_vocab_size == 200
    tok = Tokenizer.load(tmp_path / "sep")
    assert tok.src_sha256 != tok.tgt_sha256
    assert manifest.splits["train"].sentences == 400
    assert tok.matches(tok.identity())
    assert not tok.matches(Tokenizer.load(tiny_data_dir).identity())
