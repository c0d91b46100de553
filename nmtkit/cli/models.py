"""`nmtkit models` (placeholder)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    @app.command("models", help="List registered encoders, attention scorers and decoders.")
    def models() -> None:
        typer.echo("(registry listing not implemented yet)")
