"""`nmtkit preprocess`: flags → PreprocessConfig → data.preprocess.run, with progress and summary.

Every flag (spelling, help, default) is generated from PreprocessConfig's fields by the one flag
factory (cli/options.py); this module adds only the rich progress bar (stderr) and the summary
table (stdout).
"""

from __future__ import annotations

from typing import Any

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
    TimeRemainingColumn,
)
from rich.table import Table

from nmtkit.cli.console import stdout_console
from nmtkit.data.manifest import Manifest
from nmtkit.data.preprocess_config import PreprocessConfig


class RichProgress:
    """One transient bar per phase on stderr: bytes of the source file read so far, elapsed time
    and the time left (ETA); a phase without a known total (sentencepiece training) spins."""

    def __init__(self, console: Console) -> None:
        self._progress = Progress(
            SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
            TimeElapsedColumn(), TimeRemainingColumn(), console=console, transient=True,
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


HELP = (
    "Train sentencepiece and binarize a parallel corpus into a data directory.\n\n"
    "Reads PREFIX.SRC and PREFIX.TGT (plain or .gz) for --train, --valid and each --test. "
    "Lines end at \\n only (CRLF is fine), so line numbers match `wc -l`."
)


def register(app: typer.Typer) -> None:
    from nmtkit.cli.options import with_flags
    from nmtkit.flags import config_flags, configs_from_flags

    specs = config_flags(PreprocessConfig, group="preprocess")

    def preprocess(**kwargs: Any) -> None:
        cfg = configs_from_flags(kwargs, specs, {"preprocess": PreprocessConfig})["preprocess"]
        progress = RichProgress(Console(stderr=True))
        try:
            from nmtkit.data.preprocess import run

            manifest = run(cfg, progress)
        finally:
            progress.stop()
        stdout_console().print(summary_table(manifest))

    with_flags(preprocess, [(None, specs)])
    app.command("preprocess", help=HELP)(preprocess)
