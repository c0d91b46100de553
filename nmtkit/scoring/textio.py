"""Read hypothesis/reference/source text exactly the way the `sacrebleu` command does.

sacrebleu opens files as UTF-8 with ``newline="\\n"`` (only LF ends a line) and ``rstrip()``s every
line, which also removes a trailing ``\\r`` from CRLF files. We do the same so scores match it byte
for byte, and in addition strip a leading UTF-8 BOM (sacrebleu would glue it to the first token).
Unlike sacrebleu, undecodable bytes become a UsageError naming the file and line.
"""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

from nmtkit.errors import UsageError

STDIN_NAME = "<stdin>"
_BOM = "\ufeff"


def decode_lines(data: bytes, name: str) -> list[str]:
    """UTF-8 bytes → lines split on LF only, BOM dropped, each line right-stripped."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise UsageError(
            f"invalid UTF-8 (byte 0x{data[exc.start]:02x})",
            file=name,
            line=line,
            fix="convert the file to UTF-8, e.g. with iconv",
        ) from None
    if text.startswith(_BOM):
        text = text[1:]
    if not text:
        return []
    lines = text.split("\n")
    if text.endswith("\n"):
        lines.pop()  # the terminator of the last line, not an extra empty line
    return [line.rstrip() for line in lines]


def read_lines(path: str | Path) -> list[str]:
    """All lines of a text file or pipe (``.gz`` transparently, like sacrebleu); errors name it."""
    path = Path(path)
    if not path.exists():
        raise UsageError("file not found", file=path, fix="check the path")
    if path.is_dir():
        raise UsageError("is a directory", file=path, fix="give a text file")
    try:
        data = path.read_bytes()
        if path.suffix == ".gz":
            data = gzip.decompress(data)
    except (OSError, EOFError) as exc:
        raise UsageError(f"cannot read ({exc})", file=path) from None
    return decode_lines(data, str(path))


def read_stdin() -> list[str]:
    """Lines from standard input, decoded with the same rules as files."""
    stream = getattr(sys.stdin, "buffer", None)
    data = stream.read() if stream is not None else sys.stdin.read().encode("utf-8")
    return decode_lines(data, STDIN_NAME)
