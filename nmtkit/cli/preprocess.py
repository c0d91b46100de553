"""`nmtkit preprocess`: flags → PreprocessConfig → data.preprocess.run, with progress and summary.

Help texts and defaults come from PreprocessConfig's fields (declared once there); this module
only adds flag spellings (-s/-t, --joint/--separate), the rich progress bar (stderr) and the
summary table (stdout).
"""

from __future__ import annotations

import dataclasses
import enum
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich import box
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from nmtkit.cli.console import stdout_console
from nmtkit.data.manifest import Manifest
from nmtkit.data.preprocess_config import PreprocessConfig

_FIELDS = {f.name: f for f in dataclasses.fields(PreprocessConfig)}


def _help(name: str) -> str:
    return _FIELDS[name].metadata["help"]


def _default(name: str) -> Any:
    return _FIELDS[name].default


class ModelType(str, enum.Enum):
    """Choices for --model-type (typer shows them in --help)."""

    unigram = "unigram"
    bpe = "bpe"


class RichProgress:
    """One transient bar per phase on stderr (bytes of the source file read so far)."""

    def __init__(self, console: Console) -> None:
        self._progress = Progress(
            SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
            TimeElapsedColumn(), console=console, transient=True,
            disable=not console.is_terminal,  # no bar in logs and pipes
        )
        self._task: Any = None

    def start(self, description: str, total: int) -> None:
        self.stop()
        self._progress.start()
        self._task = self._progress.add_task(description, total=total or None)

    def update(self, completed: int) -> None:
        if self._task is not None:
            self._progress.update(self._task, completed=completed)

    def stop(self) -> None:
        if self._task is not None:
            self._progress.remove_task(self._task)
            self._task = None
            self._progress.stop()


def summary_table(manifest: Manifest) -> Table:
    """Per split: sentences kept/read, tokens, unk rate, mean/max length per side."""
    table = Table(
        title=f"nmtkit preprocess: {manifest.src_lang}→{manifest.tgt_lang}",
        box=box.SIMPLE_HEAD, pad_edge=False,
    )
    table.add_column("split", no_wrap=True)
    for col in ("pairs", "dropped", "tokens", "unk %", "mean len", "max"):
        table.add_column(col, justify="right", no_wrap=True, min_width=len(col))
    for name, s in manifest.splits.items():
        table.add_row(
            name, f"{s.sentences:,}", f"{s.read - s.sentences:,}",
            f"{s.src_tokens:,}/{s.tgt_tokens:,}", f"{100 * s.unk_rate:.2f}",
            f"{s.src_mean_len:.1f}/{s.tgt_mean_len:.1f}", f"{s.src_max_len}/{s.tgt_max_len}",
        )
    vocab = (f"joint vocabulary {manifest.src_vocab_size}" if manifest.joint else
             f"vocabularies {manifest.src_vocab_size} / {manifest.tgt_vocab_size}")
    notes = [f"tokens and lengths are src/tgt pieces; {vocab}; written to {manifest.directory}"]
    for name, s in manifest.splits.items():
        reasons = ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in s.dropped.items() if v)
        if reasons:
            notes.append(f"{name} dropped: {reasons}")
        if s.invalid_replaced:
            notes.append(f"{name}: {s.invalid_replaced:,} lines had invalid UTF-8 replaced")
    table.caption = "\n".join(notes)
    return table


def register(app: typer.Typer) -> None:
    @app.command("preprocess")
    def preprocess(
        source_lang: Annotated[str, typer.Option("--source-lang", "-s", help=_help("source_lang"))],
        target_lang: Annotated[str, typer.Option("--target-lang", "-t", help=_help("target_lang"))],
        train: Annotated[str, typer.Option("--train", help=_help("train"))],
        out: Annotated[Path, typer.Option("--out", "-o", help=_help("out"))],
        valid: Annotated[Optional[str], typer.Option(help=_help("valid"))] = None,  # noqa: UP045
        test: Annotated[Optional[list[str]], typer.Option(help=_help("test"))] = None,  # noqa: UP045
        force: Annotated[bool, typer.Option("--force", help=_help("force"))] = _default("force"),
        vocab_size: Annotated[int, typer.Option(help=_help("vocab_size"))] = _default("vocab_size"),
        model_type: Annotated[
            ModelType, typer.Option(help=_help("model_type"))
        ] = ModelType(_default("model_type")),
        joint: Annotated[
            bool, typer.Option("--joint/--separate", help=_help("joint"))
        ] = _default("joint"),
        character_coverage: Annotated[
            float, typer.Option(help=_help("character_coverage"))
        ] = _default("character_coverage"),
        input_sentence_size: Annotated[
            int, typer.Option(help=_help("input_sentence_size"))
        ] = _default("input_sentence_size"),
        spm_model: Annotated[
            Optional[str], typer.Option(help=_help("spm_model"))  # noqa: UP045
        ] = None,
        max_len: Annotated[int, typer.Option(help=_help("max_len"))] = _default("max_len"),
        max_len_ratio: Annotated[
            float, typer.Option(help=_help("max_len_ratio"))
        ] = _default("max_len_ratio"),
        workers: Annotated[int, typer.Option(help=_help("workers"))] = _default("workers"),
        skip_invalid: Annotated[
            bool, typer.Option("--skip-invalid", help=_help("skip_invalid"))
        ] = _default("skip_invalid"),
        chunk_size: Annotated[
            int, typer.Option(help=_help("chunk_size"), hidden=True)
        ] = _default("chunk_size"),
    ) -> None:
        """Train sentencepiece and binarize a parallel corpus into a data directory.

        Reads PREFIX.SRC and PREFIX.TGT (plain or .gz) for --train, --valid and each --test.
        Lines end at \\n only (CRLF is fine), so line numbers match `wc -l`.
        """
        cfg = PreprocessConfig(
            source_lang=source_lang, target_lang=target_lang, train=train, valid=valid,
            test=list(test or []), out=str(out), force=force, vocab_size=vocab_size,
            model_type=model_type.value, joint=joint, character_coverage=character_coverage,  # type: ignore[arg-type]
            input_sentence_size=input_sentence_size, spm_model=spm_model, max_len=max_len,
            max_len_ratio=max_len_ratio, workers=workers, skip_invalid=skip_invalid,
            chunk_size=chunk_size,
        )
        progress = RichProgress(Console(stderr=True))
        try:
            from nmtkit.data.preprocess import run

            manifest = run(cfg, progress)
        finally:
            progress.stop()
        stdout_console().print(summary_table(manifest))
