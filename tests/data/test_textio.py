"""Line reading: \\n-only splitting, BOM/CRLF/odd breaks, gzip detection, misaligned files."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from nmtkit.data.textio import LineReader, clean_line, decode_line, read_pair_chunks
from nmtkit.errors import UsageError

TRICKY = "\ufeffa b\r\nc\rd\r\ne\x0bf\x0cg\u2028h\u2029i\x85j\x1ck\nlast-no-newline".encode()


def read_all(path: Path) -> list[str]:
    with LineReader(path) as reader:
        return [decode_line(raw) for raw in reader]


def test_lines_split_on_newline_only_like_wc(tmp_path: Path) -> None:
    path = tmp_path / "x.en"
    path.write_bytes(TRICKY)
    lines = read_all(path)
    assert len(lines) == TRICKY.count(b"\n") + 1  # wc -l plus the unterminated last line
    assert lines == ["a b", "c d", "e f g h i j k", "last-no-newline"]


def test_gzip_detected_by_magic_and_read_identically(tmp_path: Path) -> None:
    plain, packed = tmp_path / "x.en", tmp_path / "x.en.bin"
    plain.write_bytes(TRICKY)
    packed.write_bytes(gzip.compress(TRICKY))
    assert read_all(plain) == read_all(packed)


def test_clean_line_keeps_ordinary_text() -> None:
    assert clean_line("Ein Mann, der läuft.") == "Ein Mann, der läuft."
    assert clean_line("tab\tstays") == "tab\tstays"


def test_invalid_utf8_decodes_to_none() -> None:
    assert decode_line(b"caf\xe9") is None


def test_pair_chunks_are_aligned_and_numbered(tmp_path: Path) -> None:
    (tmp_path / "p.en").write_text("".join(f"e{i}\n" for i in range(7)))
    (tmp_path / "p.de").write_text("".join(f"d{i}\n" for i in range(7)))
    chunks = list(read_pair_chunks(tmp_path / "p.en", tmp_path / "p.de", 3))
    assert [(first, len(s)) for first, s, _, _ in chunks] == [(1, 3), (4, 3), (7, 1)]
    assert chunks[1][2] == [b"d3", b"d4", b"d5"]


def test_pair_chunks_report_both_counts_when_misaligned(tmp_path: Path) -> None:
    (tmp_path / "p.en").write_text("a\nb\nc\nd\n")
    (tmp_path / "p.de").write_text("a\nb\n")
    with pytest.raises(UsageError, match=r"p.en has 4 lines, .*p.de has 2"):
        list(read_pair_chunks(tmp_path / "p.en", tmp_path / "p.de", 3))
