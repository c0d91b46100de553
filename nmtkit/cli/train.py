"""`nmtkit train` (placeholder until its issue lands)."""

from __future__ import annotations

import typer

from nmtkit.errors import NotImplementedYet


def register(app: typer.Typer) -> None:
    @app.command("train", help="(not implemented yet)")
    def train() -> None:
        raise NotImplementedYet("'nmtkit train' is not implemented yet")
