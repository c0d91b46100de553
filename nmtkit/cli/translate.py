"""`nmtkit translate` (placeholder until its issue lands)."""

from __future__ import annotations

import typer

from nmtkit.errors import NotImplementedYet


def register(app: typer.Typer) -> None:
    @app.command("translate", help="(not implemented yet)")
    def translate() -> None:
        raise NotImplementedYet("'nmtkit translate' is not implemented yet")
