"""Metric mode of `nmtkit score`: read and check every input first, then score, then print.

All validation happens before any score is computed, so bad input never leaves a partial table
on stdout.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from nmtkit.errors import UsageError
from nmtkit.scoring.config import MetricsConfig
from nmtkit.scoring.textio import STDIN_NAME, read_lines, read_stdin

if TYPE_CHECKING:
    from rich.console import Console
    from sacrebleu.metrics.base import Metric

    from nmtkit.scoring.metrics import SystemScores


@dataclasses.dataclass(frozen=True, kw_only=True)
class RunRequest:
    refs: list[Path]
    hyps: list[Path]  # empty: one system from stdin
    sentence: bool = False
    paired_requested: bool = False
    as_json: bool = False


def _plural(n: int) -> str:
    return f"{n} line" if n == 1 else f"{n} lines"


def read_references(paths: Sequence[Path]) -> list[list[str]]:
    """Every reference file, all with the same number of lines."""
    if not paths:
        raise UsageError("no reference given", fix="add --ref REF (repeat for several)")
    refs = [read_lines(p) for p in paths]
    for path, lines in zip(paths[1:], refs[1:], strict=True):
        if len(lines) != len(refs[0]):
            raise UsageError(
                f"{_plural(len(lines))} here but {_plural(len(refs[0]))} in {paths[0]}",
                file=path,
                fix="references must be line-aligned with each other",
            )
    return refs


def read_systems(
    paths: Sequence[Path], n_ref_lines: int, ref_path: Path
) -> list[tuple[str, list[str]]]:
    """(name, lines) per system; stdin when no path. Each must match the references' length."""
    if paths:
        systems = [(str(p), read_lines(p)) for p in paths]
    else:
        if sys.stdin is None or sys.stdin.isatty():
            raise UsageError("no hypotheses", fix="give HYP files or pipe them on stdin")
        systems = [(STDIN_NAME, read_stdin())]
    seen: dict[str, int] = {}
    named = []
    for name, lines in systems:
        if not lines:
            raise UsageError("hypothesis file is empty", file=name, fix="give a non-empty file")
        if len(lines) != n_ref_lines:
            raise UsageError(
                f"hypothesis has {_plural(len(lines))} but reference {ref_path} has "
                f"{_plural(n_ref_lines)}",
                file=name,
                fix="hypotheses and references must be line-aligned",
            )
        seen[name] = seen.get(name, 0) + 1
        named.append((name if seen[name] == 1 else f"{name} #{seen[name]}", lines))
    return named


def check_modes(cfg: MetricsConfig, request: RunRequest, n_systems: int) -> None:
    if request.sentence and n_systems > 1:
        raise UsageError("--sentence scores one system at a time", fix="give one hypothesis file")
    if request.sentence and (cfg.confidence or request.paired_requested):
        raise UsageError(
            "--sentence cannot be combined with --confidence/--paired-*",
            fix="statistical tests are corpus-level",
        )
    if request.paired_requested and n_systems < 2:
        raise UsageError(
            "paired tests need at least two systems", fix="give --hyp BASELINE --hyp SYSTEM"
        )


def run_metrics(cfg: MetricsConfig, request: RunRequest, console: Console) -> None:
    """Read, validate, score and print (table on `console`, JSON or per-sentence lines)."""
    from nmtkit.scoring import metrics as m

    m.check_options(cfg)
    refs = read_references(request.refs)
    systems = read_systems(request.hyps, len(refs[0]), request.refs[0])
    check_modes(cfg, request, len(systems))
    scorers = m.build_metrics(cfg, refs, sentence=request.sentence)
    if request.sentence:
        _print_sentences(scorers, systems[0][1], refs, cfg.width, as_json=request.as_json)
    elif len(systems) == 1:
        n_bootstrap = cfg.confidence_n if cfg.confidence else 1
        name, hyps = systems[0]
        result = m.SystemScores(
            name=name, scores=m.corpus_scores(scorers, hyps, n_bootstrap=n_bootstrap)
        )
        _print_results(console, [result], cfg, None, as_json=request.as_json)
    else:
        results = m.paired_test(scorers, systems, cfg)
        test = {"type": cfg.paired, "n": m.paired_samples(cfg), "seed": m.seed_label()}
        _print_results(console, results, cfg, test, as_json=request.as_json)


def _print_sentences(
    scorers: dict[str, Metric],
    hyps: Sequence[str],
    refs: Sequence[Sequence[str]],
    width: int,
    *,
    as_json: bool,
) -> None:
    from nmtkit.scoring import metrics as m
    from nmtkit.scoring import report

    names, rows = m.sentence_scores(scorers, hyps, refs)
    if as_json:
        typer.echo(report.sentence_json(rows, names, width))
        return
    for line in report.sentence_lines(rows, width):
        typer.echo(line)


def _print_results(
    console: Console,
    results: list[SystemScores],
    cfg: MetricsConfig,
    test: dict | None,
    *,
    as_json: bool,
) -> None:
    from nmtkit.scoring import report

    if as_json:
        typer.echo(report.results_json(results, cfg.width, test))
        return
    if test is None:
        report.print_single(console, results[0], cfg.width)
    else:
        if test["type"] == "bs":
            label = f"Paired bootstrap resampling ({test['n']} resamples)"
        else:
            label = f"Paired approximate randomization ({test['n']} trials)"
        report.print_multi(console, results, cfg.width, label)
