"""Render metric results: a rich table for people, JSON for scripts, TSV for sentence scores.

Numbers are formatted exactly as sacrebleu formats them (`f"{x:.{width}f}"`, p-values to 4
decimals); signatures are printed on plain lines after the table so a narrow terminal never
wraps them and they can be copied as they are.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

from nmtkit.scoring.metrics import SIGNIFICANCE_LEVEL, MetricScore, SystemScores


def fmt(value: float, width: int) -> str:
    return f"{value:.{width}f}"


def _cell(score: MetricScore, width: int) -> str:
    text = fmt(score.score, width)
    if score.mean is not None and score.ci is not None:
        text += f" (μ = {fmt(score.mean, width)} ± {fmt(score.ci, width)})"
    if score.p_value is not None:
        text += f"\np = {score.p_value:.4f}" + (" *" if score.significant else "")
    return text


def print_single(console: Console, system: SystemScores, width: int) -> None:
    """One system: a row per metric with its score, CI and sacrebleu's details."""
    table = Table(title=system.name, title_justify="left")
    table.add_column("Metric")
    table.add_column("Score", justify="right")
    has_ci = any(s.mean is not None for s in system.scores)
    if has_ci:
        table.add_column("μ ± 95% CI", justify="right")
    table.add_column("Details")
    for s in system.scores:
        ci = [f"{fmt(s.mean, width)} ± {fmt(s.ci, width)}"] if has_ci and s.mean is not None else []
        table.add_row(s.name, fmt(s.score, width), *ci, s.verbose)
    console.print(table)
    print_signatures(console, system.scores)


def print_multi(console: Console, systems: Sequence[SystemScores], width: int, test: str) -> None:
    """Several systems: a row per system, p-values against the baseline (first system)."""
    table = Table()
    table.add_column("System")
    for s in systems[0].scores:
        table.add_column(s.name, justify="right")
    for system in systems:
        label = f"{system.name} (baseline)" if system.baseline else system.name
        table.add_row(label, *(_cell(s, width) for s in system.scores))
    console.print(table)
    console.print(
        f"{test}: each system against the baseline; * marks p <= {SIGNIFICANCE_LEVEL} "
        "(a difference unlikely to be chance; identical scores are never marked).",
        markup=False,
        highlight=False,
    )
    print_signatures(console, systems[0].scores)


def print_signatures(console: Console, scores: Sequence[MetricScore]) -> None:
    """`NAME  signature` lines, never wrapped (copyable into papers as they are)."""
    console.print("Signatures:", markup=False, highlight=False)
    pad = max(len(s.name) for s in scores)
    for s in scores:
        console.print(
            f"  {s.name:<{pad}}  {s.signature}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )


def _rounded(value: float | None, width: int) -> float | None:
    """sacrebleu's JSON rounding: the printed decimals, as a number."""
    return None if value is None else float(fmt(value, width))


def score_dict(score: MetricScore, width: int) -> dict[str, object]:
    out: dict[str, object] = {
        "name": score.name,
        "score": _rounded(score.score, width),
        "signature": score.signature,
    }
    if score.verbose:
        out["verbose_score"] = score.verbose
    if score.mean is not None:
        out["confidence_mean"] = _rounded(score.mean, width)
        out["confidence_ci"] = _rounded(score.ci, width)
    if score.p_value is not None:
        out["p_value"] = score.p_value
        out["significant"] = score.significant
    return out


def results_json(systems: Sequence[SystemScores], width: int, test: dict | None) -> str:
    """{"systems": [{"name", "baseline", "scores": [...]}, ...], "paired_test": ... | null}."""
    payload = {
        "systems": [
            {
                "name": system.name,
                "baseline": system.baseline,
                "scores": [score_dict(s, width) for s in system.scores],
            }
            for system in systems
        ],
        "paired_test": test,
    }
    return json.dumps(payload, indent=1, ensure_ascii=False)


def sentence_lines(rows: Sequence[Sequence[float]], width: int) -> list[str]:
    """One tab-separated line per sentence, metrics in the order requested."""
    return ["\t".join(fmt(value, width) for value in row) for row in rows]


def sentence_json(rows: Sequence[Sequence[float]], labels: Sequence[str], width: int) -> str:
    return json.dumps(
        [{label: _rounded(v, width) for label, v in zip(labels, row, strict=True)} for row in rows],
        ensure_ascii=False,
    )
