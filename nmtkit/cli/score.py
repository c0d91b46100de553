"""`nmtkit score` (placeholder until its issue lands)."""

from __future__ import annotations

import typer

from nmtkit.errors import NotImplementedYet


def register(app: typer.Typer) -> None:
    @app.command("score", help="(not implemented yet)")
    def score() -> None:
        raise NotImplementedYet("'nmtkit score' is not implemented yet")
