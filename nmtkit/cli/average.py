"""`nmtkit average CKPT... -o OUT`: average checkpoint weights into one loadable checkpoint."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

HELP = (
    "Average the weights of several checkpoints of one run (usually the last few "
    "checkpoint_step files) into one checkpoint (a cheap ensemble)."
)


def register(app: typer.Typer) -> None:
    from nmtkit.cli.options import with_flags
    from nmtkit.flags import config_flags, configs_from_flags
    from nmtkit.plugins import PluginConfig

    specs = config_flags(PluginConfig, group="plugins")

    def average(
        checkpoints: list[Path] = typer.Argument(..., help="Two or more .safetensors checkpoints."),
        output: Path = typer.Option(..., "-o", "--output", help="Where to write the average."),
        **kwargs: Any,
    ) -> None:
        from nmtkit.cli.console import stderr_console
        from nmtkit.plugins import load_user_dirs
        from nmtkit.training.average import average_checkpoints

        plugins = configs_from_flags(kwargs, specs, {"plugins": PluginConfig})["plugins"]
        load_user_dirs(plugins.user_dir)  # before any checkpoint names a component
        average_checkpoints(list(checkpoints), output)
        stderr_console().print(f"averaged {len(checkpoints)} checkpoints into {output}")

    with_flags(average, [("Plugins", specs)])
    app.command("average", help=HELP)(average)
