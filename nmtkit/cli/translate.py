"""`nmtkit translate`: flags from SearchConfig and TranslateConfig → translate.pipeline.run.

Nothing heavy is imported until the command runs (torch loads with the model), so `--help` and
argument errors are instant.
"""

from __future__ import annotations

from typing import Any

import typer

HELP = (
    "Translate raw source text (stdin or --input) with one or more checkpoints.\n\n"
    "Writes one line per input line to stdout (or --output); logs go to stderr. "
    "Several -c decode as an ensemble."
)


def _groups() -> dict[str, Any]:
    from nmtkit.cli.options import config_flags
    from nmtkit.plugins import PluginConfig
    from nmtkit.search.config import SearchConfig
    from nmtkit.translate.options import TranslateConfig

    return {
        "search": config_flags(SearchConfig, group="search"),
        "translate": config_flags(TranslateConfig, group="translate"),
        "plugins": config_flags(PluginConfig, group="plugins"),
    }


def register(app: typer.Typer) -> None:
    from nmtkit.cli.options import with_flags

    groups = _groups()

    def translate(
        checkpoint: list[str] = typer.Option(
            ..., "-c", "--checkpoint", help="Checkpoint (.safetensors); repeat for an ensemble."
        ),
        input: str | None = typer.Option(
            None, "--input", "-i", help="Read source lines from this file instead of stdin."
        ),
        output: str | None = typer.Option(
            None, "--output", "-o", help="Write translations to this file (atomically)."
        ),
        **kwargs: Any,
    ) -> None:
        run_translate(checkpoint, input, output, kwargs, groups)

    panels = [("Search", groups["search"]), ("Pipeline", groups["translate"]),
              ("Plugins", groups["plugins"])]  # fmt: skip
    with_flags(translate, panels)
    app.command("translate", help=HELP)(translate)


def run_translate(
    checkpoints: list[str],
    input: str | None,
    output: str | None,
    flags: dict[str, Any],
    groups: dict[str, Any],
) -> None:
    import sys

    from nmtkit.cli.options import configs_from_flags
    from nmtkit.plugins import PluginConfig, load_user_dirs
    from nmtkit.search.config import SearchConfig
    from nmtkit.translate.options import TranslateConfig
    from nmtkit.translate.pipeline import run

    specs = [s for group in groups.values() for s in group]
    classes = {"search": SearchConfig, "translate": TranslateConfig, "plugins": PluginConfig}
    configs = configs_from_flags(flags, specs, classes)
    load_user_dirs(configs["plugins"].user_dir)  # before any checkpoint names a component
    search, options = configs["search"], configs["translate"]

    def log(message: str) -> None:
        sys.stderr.write(f"nmtkit: {message}\n")
        sys.stderr.flush()

    run(
        checkpoints=checkpoints, search=search, options=options, input=input, output=output, log=log
    )
