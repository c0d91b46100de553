"""Reading parallel text: plain or gzip, streamed, with one fixed idea of what a line is.

A line ends at ``\\n`` and nowhere else, so line numbers match ``wc -l``, editors and ``sed -n``
(a final line without a newline still counts). Python's ``str.splitlines`` would also split on
``\\r``, ``\\x0b``, ``\\x0c``, ``\\x1c-\\x1e``, ``\\x85``, ``\\u2028`` and ``\\u2029``, silently
misaligning source and target; we read bytes and split on ``\\n`` only. Then each line is
normalized (`clean_line`): a UTF-8 BOM at the start of a file is dropped, a trailing ``\\r``
(CRLF files) is removed, and any other line-break-like character, including a lone ``\\r``, becomes
a space. Sentencepiece's own NFKC normalization runs after that, at encoding time.
"""

from __future__ import annotations

import gzip
import re
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from nmtkit.errors import UsageError

GZIP_MAGIC = b"\x1f\x8b"
BOM = "\ufeff"
# Characters that str.splitlines treats as line breaks (besides \n) and that must stay in-line.
_BREAKS = re.compile("[\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")


def clean_line(text: str) -> str:
    """Normalize one line (without its ``\\n``): CRLF ending removed, other breaks to spaces."""
    if text.endswith("\r"):
        text = text[:-1]
    return _BREAKS.sub(" ", text)


def find_corpus_file(prefix: str | Path, lang: str) -> Path:
    """PREFIX.LANG, else PREFIX.LANG.gz; a one-line UsageError naming both when neither exists."""
    plain = Path(f"{prefix}.{lang}")
    if plain.is_file():
        return plain
    gz = Path(f"{plain}.gz")
    if gz.is_file():
        return gz
    raise UsageError(
        "file not found",
        file=plain,
        fix=f"expected {plain} or {gz}; check the prefix and --source-lang/--target-lang",
    )


class LineReader:
    """Streams the raw lines (bytes, without ``\\n``) of a plain or gzip file.

    Gzip is recognized by its magic bytes, not its name. Decompression errors become a
    UsageError naming the file and the line where reading stopped. `position` is the byte offset
    in the underlying (compressed) file, for progress bars.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.line_no = 0
        try:
            self._raw: BinaryIO = open(self.path, "rb")  # noqa: SIM115 (closed in close())
        except OSError as exc:
            raise UsageError(f"cannot open file: {exc.strerror}", file=self.path) from None
        magic = self._raw.read(2)
        self._raw.seek(0)
        if magic == GZIP_MAGIC:
            self._stream: BinaryIO = gzip.GzipFile(fileobj=self._raw, mode="rb")  # type: ignore[assignment]
        elif self.path.suffix == ".gz":
            self._raw.close()
            raise UsageError(
                "not a gzip file (bad magic bytes)",
                file=self.path,
                fix="re-download it, or drop the .gz suffix if it is plain text",
            )
        else:
            self._stream = self._raw

    @property
    def position(self) -> int:
        return self._raw.tell() if not self._raw.closed else 0

    def __iter__(self) -> Iterator[bytes]:
        try:
            for line in self._stream:
                self.line_no += 1
                if self.line_no == 1 and line.startswith(b"\xef\xbb\xbf"):
                    line = line[3:]
                yield line[:-1] if line.endswith(b"\n") else line
        except (OSError, EOFError, zlib.error) as exc:
            raise UsageError(
                f"unreadable or corrupt file after line {self.line_no}: {exc}",
                file=self.path,
                line=self.line_no + 1,
                fix="check it with `gzip -t` and re-download or re-create it",
            ) from None

    def close(self) -> None:
        if self._stream is not self._raw:
            self._stream.close()
        self._raw.close()

    def __enter__(self) -> LineReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def decode_line(raw: bytes) -> str | None:
    """UTF-8 decode and clean one raw line; None if it is not valid UTF-8."""
    try:
        return clean_line(raw.decode("utf-8"))
    except UnicodeDecodeError:
        return None


def count_lines(path: str | Path) -> int:
    """Number of lines as LineReader sees them (for error messages about misaligned files)."""
    with LineReader(path) as reader:
        return sum(1 for _ in reader)


def read_pair_chunks(
    src_path: Path, tgt_path: Path, chunk_size: int
) -> Iterator[tuple[int, list[bytes], list[bytes], int]]:
    """Yield (first line number, src lines, tgt lines, byte position) chunks of aligned lines.

    Raises a UsageError naming both files and both line counts when they differ.
    """
    with LineReader(src_path) as src, LineReader(tgt_path) as tgt:
        src_it, tgt_it = iter(src), iter(tgt)
        first = 1
        while True:
            src_chunk = _take(src_it, chunk_size)
            tgt_chunk = _take(tgt_it, chunk_size)
            if len(src_chunk) != len(tgt_chunk):
                n_src = src.line_no + sum(1 for _ in src_it)
                n_tgt = tgt.line_no + sum(1 for _ in tgt_it)
                raise UsageError(
                    f"line counts differ: {src_path} has {n_src} lines, {tgt_path} has {n_tgt}",
                    file=src_path,
                    fix="source and target files must be line-aligned",
                )
            if not src_chunk:
                return
            yield first, src_chunk, tgt_chunk, src.position
            first += len(src_chunk)


def _take(it: Iterator[bytes], n: int) -> list[bytes]:
    out: list[bytes] = []
    for line in it:
        out.append(line)
        if len(out) == n:
            break
    return out
