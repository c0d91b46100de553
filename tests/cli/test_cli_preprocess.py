"""`nmtkit preprocess` end to end: success output, and one-line errors that leave nothing behind."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest

from nmtkit.cli import main
from nmtkit.data.binarized import Split
from nmtkit.data.tokenizer import Tokenizer


def nmtkit(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(argv)
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


def args(train: Path | str, out: Path, *extra: str) -> list[str]:
    return ["preprocess", "-s", "en", "-t", "de", "--train", str(train), "--out", str(out), *extra]


def copy_pair(src_dir: Path, name: str, dest: Path) -> Path:
    for lang in ("en", "de"):
        shutil.copy(src_dir / f"{name}.{lang}", dest / f"{name}.{lang}")
    return dest / name


def assert_clean_failure(code: int, err: str, out_dir: Path, *needles: str) -> None:
    lines = err.strip().splitlines()
    assert code == 2
    assert len(lines) == 1 and lines[0].startswith("nmtkit: error: "), err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    assert not out_dir.exists()
    assert not [p for p in out_dir.parent.iterdir() if p.name.startswith(f".{out_dir.name}.")]


def test_preprocess_cli_writes_data_dir_and_summary(
    tiny_corpus_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "data"
    argv = args(tiny_corpus_dir / "train", out, "--valid", str(tiny_corpus_dir / "val"),
                "--test", str(tiny_corpus_dir / "test_2016_flickr"), "--vocab-size", "250",
                "--max-len", "40", "--workers", "2")
    code, stdout, _ = nmtkit(argv, capsys)
    assert code == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert list(manifest["splits"]) == ["train", "valid", "test_2016_flickr"]
    train = manifest["splits"]["train"]
    assert train["read"] == 400 and train["sentences"] == 400 - train["dropped"]["too_long"]
    assert train["dropped"]["too_long"] > 0
    assert len(Split.open(out / "train.safetensors")) == train["sentences"]
    assert Tokenizer.load(out).src_vocab_size == 250
    assert "test_2016_flickr" in stdout and f"{train['sentences']:,}" in stdout
    assert not (out / "spm.vocab").exists() and not list(out.glob(".spm_input*"))

    code, _, err = nmtkit(argv, capsys)  # existing output is refused ...
    assert code == 2 and "--force" in err
    code, _, _ = nmtkit([*argv, "--force"], capsys)  # ... unless --force
    assert code == 0 and (out / "manifest.json").is_file()


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "c.en").write_text("a\n")
    code, _, err = nmtkit(args(tmp_path / "c", tmp_path / "out"), capsys)
    assert_clean_failure(code, err, tmp_path / "out", "c.de", "not found")


def test_line_counts_differ(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "c.en").write_text("a\nb\nc\n")
    (tmp_path / "c.de.gz").write_bytes(gzip.compress(b"a\nb\n"))
    code, _, err = nmtkit(args(tmp_path / "c", tmp_path / "out"), capsys)
    assert_clean_failure(code, err, tmp_path / "out", "c.en has 3 lines", "c.de.gz has 2")


def test_line_counts_differ_in_valid(
    tiny_corpus_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "v.en").write_text("a\nb\n")
    (tmp_path / "v.de").write_text("a\n")
    argv = args(tiny_corpus_dir / "train", tmp_path / "out", "--valid", str(tmp_path / "v"))
    code, _, err = nmtkit(argv, capsys)
    assert_clean_failure(code, err, tmp_path / "out", "v.en has 2 lines", "v.de has 1")


def test_invalid_utf8_names_file_and_line(
    tiny_corpus_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    train = copy_pair(tiny_corpus_dir, "train", tmp_path)
    lines = (tmp_path / "train.de").read_bytes().split(b"\n")
    lines[6] = b"Gr\xfc\xdfe aus K\xf6ln"  # latin-1, line 7
    (tmp_path / "train.de").write_bytes(b"\n".join(lines))
    out = tmp_path / "out"
    code, _, err = nmtkit(args(train, out, "--vocab-size", "250"), capsys)
    assert_clean_failure(code, err, out, "train.de:7", "invalid UTF-8", "--skip-invalid")

    code, _, _ = nmtkit(args(train, out, "--vocab-size", "250", "--skip-invalid"), capsys)
    stats = json.loads((out / "manifest.json").read_text())["splits"]["train"]
    assert code == 0 and stats["dropped"]["invalid_utf8"] == 1 and stats["read"] == 400
    assert stats["sentences"] == 399


def test_invalid_utf8_in_test_split_is_replaced_with_skip_invalid(
    tiny_corpus_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    test = copy_pair(tiny_corpus_dir, "test_2016_flickr", tmp_path)
    with open(tmp_path / "test_2016_flickr.en", "ab") as f:
        f.write(b"caf\xe9\n")
    with open(tmp_path / "test_2016_flickr.de", "ab") as f:
        f.write(b"Kaffee\n")
    out = tmp_path / "out"
    argv = args(tiny_corpus_dir / "train", out, "--test", str(test), "--vocab-size", "250")
    code, _, err = nmtkit(argv, capsys)
    assert_clean_failure(code, err, out, "test_2016_flickr.en:51", "invalid UTF-8")
    code, _, _ = nmtkit([*argv, "--skip-invalid"], capsys)
    stats = json.loads((out / "manifest.json").read_text())["splits"]["test_2016_flickr"]
    assert code == 0 and stats["sentences"] == 51 and stats["invalid_replaced"] == 1


def test_vocab_size_too_large_says_what_works(
    tiny_corpus_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    code, _, err = nmtkit(args(tiny_corpus_dir / "val", out, "--vocab-size", "4000"), capsys)
    assert_clean_failure(code, err, out, "--vocab-size 4000 is larger", "val.en")
    largest = int(err.split("use --vocab-size ")[1].split()[0])
    assert 100 < largest < 4000
    code, _, _ = nmtkit(args(tiny_corpus_dir / "val", out, "--vocab-size", str(largest)), capsys)
    assert code == 0 and Tokenizer.load(out).src_vocab_size == largest


@pytest.mark.parametrize("damage", ["truncated", "not_gzip"])
def test_corrupt_gzip(
    tiny_corpus_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], damage: str
) -> None:
    shutil.copy(tiny_corpus_dir / "train.en", tmp_path / "c.en")
    packed = gzip.compress((tiny_corpus_dir / "train.de").read_bytes())
    blob = packed[: len(packed) // 2] if damage == "truncated" else b"plain text, not gzip\n"
    (tmp_path / "c.de.gz").write_bytes(blob)
    code, _, err = nmtkit(args(tmp_path / "c", tmp_path / "out"), capsys)
    needle = "corrupt" if damage == "truncated" else "not a gzip file"
    assert_clean_failure(code, err, tmp_path / "out", "c.de.gz", needle)


def test_bad_options_are_refused(
    tiny_corpus_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    train = tiny_corpus_dir / "train"
    out = tmp_path / "out"
    code, _, err = nmtkit(["preprocess", "-s", "en", "-t", "en", "--train", str(train),
                           "--out", str(out)], capsys)
    assert_clean_failure(code, err, out, "same")
    code, _, err = nmtkit(args(train, out, "--spm-model", str(tmp_path / "nope.model")), capsys)
    assert_clean_failure(code, err, out, "nope.model")
    code, _, err = nmtkit(args(train, out, "--test", str(train)), capsys)
    assert_clean_failure(code, err, out, "'train'")


def test_huge_line_does_not_crash(
    tiny_corpus_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    train = copy_pair(tiny_corpus_dir, "train", tmp_path)
    with open(tmp_path / "train.en", "a") as f:
        f.write("a dog runs " * 30_000 + "\n")  # 330 kB, over sentencepiece's training limit
    with open(tmp_path / "train.de", "a") as f:
        f.write("ein Hund\n")
    out = tmp_path / "out"
    code, _, err = nmtkit(args(train, out, "--vocab-size", "250"), capsys)
    assert code == 0, err
    stats = json.loads((out / "manifest.json").read_text())["splits"]["train"]
    assert stats["read"] == 401 and stats["dropped"]["too_long"] >= 1


def test_everything_filtered_is_an_error(
    tiny_data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "c.en").write_text("\n\n")
    (tmp_path / "c.de").write_text("a\n\n")
    out = tmp_path / "out"
    code, _, err = nmtkit(args(tmp_path / "c", out, "--spm-model", str(tiny_data_dir)), capsys)
    assert_clean_failure(code, err, out, "no training pairs left out of 2", "empty 2")
    (tmp_path / "e.en").write_text("")
    (tmp_path / "e.de").write_text("")
    code, _, err = nmtkit(args(tmp_path / "e", out), capsys)
    assert_clean_failure(code, err, out, "e.en", "empty")


def test_every_preprocess_flag_is_generated_from_its_config_field() -> None:
    """PreprocessConfig is the only place a preprocess option is declared: each field is a flag
    with the field's help, and the command has no option that is not a field."""
    import dataclasses

    import typer

    from nmtkit.cli import build_app
    from nmtkit.data.preprocess_config import PreprocessConfig

    command = typer.main.get_command(build_app(["preprocess"])).commands["preprocess"]
    options = {p.opts[0]: p for p in command.params if p.opts[0] != "--help"}
    fields = {f"--{f.name.replace('_', '-')}": f for f in dataclasses.fields(PreprocessConfig)}
    assert set(options) == set(fields)
    for flag, field in fields.items():
        assert options[flag].help.startswith(field.metadata["help"]), flag
    assert options["--joint"].secondary_opts == ["--separate"]
    assert "-s" in options["--source-lang"].opts and options["--out"].required
    assert options["--chunk-size"].hidden
