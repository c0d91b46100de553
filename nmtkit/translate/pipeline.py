"""stdin (or --input) → translations → stdout (or --output, atomically), streamed in chunks.

Exactly one output line per input line, in input order (with --nbest N: N lines per input line,
`id<TAB>score<TAB>text`, ids counted from 0). Empty input lines give empty output lines. Logs and
warnings go to stderr only. A terminal on stdin is translated line by line and flushed at once.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from nmtkit.errors import UsageError
from nmtkit.search.config import SearchConfig
from nmtkit.translate.options import TranslateConfig

Log = Callable[[str], None]


def read_lines(
    stream: IO[bytes], name: str, *, strict: bool, warn: Log, chunk: int
) -> Iterator[tuple[int, list[str]]]:
    """Yield (first line number, decoded lines) chunks; readline() so a terminal is not
    read ahead. Invalid UTF-8 is replaced (with a warning) or, with strict, an error."""
    lines: list[str] = []
    first = 1
    for number, raw in enumerate(iter(stream.readline, b""), start=1):
        raw = raw[:-1] if raw.endswith(b"\n") else raw
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            if strict:
                raise UsageError(
                    f"invalid UTF-8 at byte {exc.start}",
                    file=name,
                    line=number,
                    fix="fix the file's encoding, or drop --strict to replace bad bytes",
                ) from None
            warn(f"{name}:{number}: invalid UTF-8, decoded with replacement characters")
            text = raw.decode("utf-8", errors="replace")
        lines.append(text)
        if len(lines) == chunk:
            yield first, lines
            first, lines = number + 1, []
    if lines:
        yield first, lines


@contextlib.contextmanager
def open_input(path: str | None) -> Iterator[tuple[IO[bytes], str, bool]]:
    """(binary stream, name for messages, is a terminal)."""
    if path is None or path == "-":
        yield sys.stdin.buffer, "<stdin>", sys.stdin.isatty()
        return
    try:
        f = open(path, "rb")  # noqa: SIM115 (closed below)
    except OSError as exc:
        raise UsageError(f"cannot open input: {exc.strerror}", file=path) from None
    with f:
        yield f, path, False


@contextlib.contextmanager
def open_output(path: str | None) -> Iterator[IO[str]]:
    """stdout, or a file that appears only when translation completed (atomic)."""
    if path is None or path == "-":
        yield sys.stdout
        return
    from nmtkit.io.atomic import atomic_open

    with atomic_open(path, "w") as f:
        yield f


class AttentionJson:
    """A JSON array written one record per line, so huge inputs never sit in memory."""

    def __init__(self, f: IO[str]) -> None:
        self.f, self.first = f, True
        f.write("[\n")

    def add(self, record: dict[str, Any]) -> None:
        self.f.write(("" if self.first else ",\n") + json.dumps(record, ensure_ascii=False))
        self.first = False

    def close(self) -> None:
        self.f.write("\n]\n")


def run(
    *,
    checkpoints: Sequence[str],
    search: SearchConfig,
    options: TranslateConfig,
    input: str | None = None,
    output: str | None = None,
    log: Log | None = None,
) -> dict[str, float]:
    """Translate everything; returns simple statistics (sentences, pieces, seconds)."""
    log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    search.check()
    options.check()
    if options.plot_attention:
        from nmtkit.translate.plot import require_matplotlib

        require_matplotlib()  # fail before loading anything
    from nmtkit.translate.translator import Translator

    start = time.perf_counter()
    translator = Translator.load(checkpoints, search, options)
    log(
        f"model ready in {time.perf_counter() - start:.2f} s ({len(checkpoints)} checkpoint(s) "
        f"on {translator.device}, {translator.options.precision})"
    )
    stats = {"sentences": 0, "target_pieces": 0}
    with contextlib.ExitStack() as stack:
        stream, name, tty = stack.enter_context(open_input(input))
        out = stack.enter_context(open_output(output))
        attn_json = None
        if options.attention_json:
            from nmtkit.io.atomic import atomic_open

            attn_json = AttentionJson(stack.enter_context(atomic_open(options.attention_json)))
        formatter = Formatter(translator, search, options, attn_json)
        chunk = 1 if tty else options.chunk_size
        for first, lines in read_lines(
            stream, name, strict=options.strict, warn=lambda m: log(f"warning: {m}"), chunk=chunk
        ):
            results = translator.translate(
                lines, first_line=first, warn=lambda m: log(f"warning: {name}:{m}")
            )
            for text in formatter.lines(results, first - 1, lines):
                out.write(text + "\n")
            out.flush()
            stats["sentences"] += len(lines)
            stats["target_pieces"] += sum(len(r.hyps[0].tokens) for r in results if r.hyps)
        if attn_json is not None:
            attn_json.close()
    stats["seconds"] = time.perf_counter() - start
    log(
        f"translated {stats['sentences']} lines ({stats['target_pieces']} target pieces) in "
        f"{stats['seconds']:.2f} s"
    )
    return stats


class Formatter:
    """Turns Translations into output lines (text, n-best, alignment) and attention files."""

    def __init__(
        self,
        translator: Any,
        search: SearchConfig,
        options: TranslateConfig,
        attn_json: AttentionJson | None,
    ) -> None:
        self.tok = translator.tokenizer
        self.translator = translator
        self.search, self.options = search, options
        self.attn_json = attn_json
        self._pieces: Any = None  # sentencepiece processors for --replace-unk (lazy)

    def lines(self, results: list[Any], first_id: int, sources: list[str]) -> Iterator[str]:
        best = [r.hyps[0] if r.hyps else None for r in results]
        texts = [""] * len(results) if self.search.nbest else self.texts(best, results, sources)
        for offset, (r, text) in enumerate(zip(results, texts, strict=True)):
            sent_id = first_id + offset
            self.attention_outputs(sent_id, r)
            if self.search.nbest:
                yield from self.nbest_lines(sent_id, r, sources[offset])
            else:
                yield text + self.alignment(r, best[offset])

    def texts(self, hyps: list[Any], results: list[Any], sources: list[str]) -> list[str]:
        """Detokenized text of each hypothesis (None → empty), decoded in one call."""
        if not self.options.replace_unk:
            return self.tok.decode_tgt([h.tokens if h is not None else [] for h in hyps])
        return [
            self.replace_unk_text(h, r.src_ids, s) if h is not None else ""
            for h, r, s in zip(hyps, results, sources, strict=True)
        ]

    def nbest_lines(self, sent_id: int, r: Any, source: str) -> Iterator[str]:
        if not r.hyps:
            yield f"{sent_id}\t{0.0:.4f}\t"
            return
        hyps = r.hyps[: self.search.nbest]
        texts = self.texts(hyps, [r] * len(hyps), [source] * len(hyps))
        for h, text in zip(hyps, texts, strict=True):
            yield f"{sent_id}\t{h.score:.4f}\t{text}{self.alignment(r, h)}"

    def alignment(self, r: Any, h: Any) -> str:
        if not self.options.alignment:
            return ""
        if h is None:
            return "\t"
        from nmtkit.translate.alignment import hard_alignment, pharaoh

        pairs = hard_alignment(h.attention, len(r.src_ids), len(h.tokens))
        if self.options.alignment_words:
            src, tgt = self.tok.src_pieces(r.src_ids), self.tok.tgt_pieces(h.tokens)
            return "\t" + pharaoh(pairs, src, tgt)
        return "\t" + pharaoh(pairs)

    def replace_unk_text(self, h: Any, src_ids: list[int], source: str) -> str:
        from nmtkit.data.textio import clean_line
        from nmtkit.data.tokenizer import load_processor
        from nmtkit.translate.alignment import WORD_START, replace_unk

        if self._pieces is None:
            self._pieces = (load_processor(self.tok.src_model), load_processor(self.tok.tgt_model))
        sp_src, sp_tgt = self._pieces
        surface = sp_src.encode(clean_line(source), out_type=str)[: len(src_ids)]
        pieces = replace_unk(self.tok.tgt_pieces(h.tokens), h.attention, surface)
        return sp_tgt.decode_pieces(pieces).replace(WORD_START, " ").strip()

    def attention_outputs(self, sent_id: int, r: Any) -> None:
        if self.attn_json is None and not self.options.plot_attention:
            return
        from nmtkit.translate.alignment import attention_record

        h = r.hyps[0] if r.hyps else None
        src = self.tok.src_pieces(r.src_ids)
        tgt = self.tok.tgt_pieces(h.tokens) if h is not None else []
        record = attention_record(sent_id, src, tgt, None if h is None else h.attention)
        if self.options.attention_heads and h is not None:
            heads = self.translator.attention_heads(r.src_ids, h.tokens)  # (L, H, T+1, S+1)
            if heads is not None:
                record["heads"] = [[[[round(x, 4) for x in row] for row in head]
                                    for head in layer] for layer in heads.tolist()]  # fmt: skip
        if self.attn_json is not None:
            self.attn_json.add(record)
        if self.options.plot_attention and h is not None:
            from nmtkit.translate.plot import plot_attention

            directory = Path(self.options.plot_attention)
            directory.mkdir(parents=True, exist_ok=True)
            plot_attention(
                directory / f"{sent_id:06d}.png", h.attention, record["source"], record["target"]
            )
