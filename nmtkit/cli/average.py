"""`nmtkit average CKPT... -o OUT`: average checkpoint weights into one loadable checkpoint."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command(
        "average",
        help="Average the weights of several checkpoints of one run (usually the last few "
        "checkpoint_step files) into one checkpoint (a cheap ensemble).",
    )
    def average(
        checkpoints: list[Path] = typer.Argument(..., help="Two or more .safetensors checkpoints."),
        output: Path = typer.Option(..., "-o", "--output", help="Where to write the average."),
    ) -> None:
        from nmtkit.cli.console import stderr_console
        from nmtkit.training.average import average_checkpoints

        average_checkpoints(list(checkpoints), output)
        stderr_console().print(f"averaged {len(checkpoints)} checkpoints into {output}")
