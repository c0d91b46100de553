"""Small hypothesis/reference sets written to files, and a CLI runner for `nmtkit score`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nmtkit.cli import build_app
from tests.scoring.scoring_data import DATASETS, write_lines


@pytest.fixture
def dataset_files(tmp_path: Path):
    """Factory: dataset name → (hyp path, [ref paths], hyps, refs)."""

    def make(name: str) -> tuple[Path, list[Path], list[str], list[list[str]]]:
        hyps, refs = DATASETS[name]
        hyp = write_lines(tmp_path / f"{name}.hyp", hyps)
        ref_paths = [write_lines(tmp_path / f"{name}.ref{i}", r) for i, r in enumerate(refs)]
        return hyp, ref_paths, hyps, refs

    return make


@pytest.fixture(scope="session")
def app():
    return build_app()


@pytest.fixture
def score(app):
    """Run `nmtkit score ARGS` in-process; returns the typer Result."""
    runner = CliRunner()

    def run(*args: str | Path, input: str | bytes | None = None):
        return runner.invoke(app, ["score", *map(str, args)], input=input)

    return run


@pytest.fixture
def score_json(score):
    """Run with --json and return the parsed payload (asserting success)."""

    def run(*args: str | Path, input: str | bytes | None = None):
        result = score(*args, "--json", input=input)
        assert result.exit_code == 0, (result.output, result.exception)
        return json.loads(result.stdout)

    return run
