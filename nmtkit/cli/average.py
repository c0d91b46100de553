"""`nmtkit average` (placeholder until its issue lands)."""

from __future__ import annotations

import typer

from nmtkit.errors import NotImplementedYet


def register(app: typer.Typer) -> None:
    @app.command("average", help="(not implemented yet)")
    def average() -> None:
        raise NotImplementedYet("'nmtkit average' is not implemented yet")
