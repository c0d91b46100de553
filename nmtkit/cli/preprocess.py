"""`nmtkit preprocess` (placeholder until its issue lands)."""

from __future__ import annotations

import typer

from nmtkit.errors import NotImplementedYet


def register(app: typer.Typer) -> None:
    @app.command("preprocess", help="(not implemented yet)")
    def preprocess() -> None:
        raise NotImplementedYet("'nmtkit preprocess' is not implemented yet")
