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


def _configs() -> dict[str, Any]:
    from nmtkit.plugins import PluginConfig
    from nmtkit.search.config import SearchConfig
    from nmtkit.translate.options import TranslateConfig, TranslateFilesConfig

    return {"files": TranslateFilesConfig, "search": SearchConfig,
            "translate": TranslateConfig, "plugins": PluginConfig}  # fmt: skip


def register(app: typer.Typer) -> None:
    from nmtkit.cli.options import with_flags
    from nmtkit.flags import config_flags

    configs = _configs()
    groups = {group: config_flags(cls, group=group) for group, cls in configs.items()}
    specs = [s for group in groups.values() for s in group]

    def translate(**kwargs: Any) -> None:
        run_translate(kwargs, specs, configs)

    panels = [(None, groups["files"]), ("Search", groups["search"]),
              ("Pipeline", groups["translate"]), ("Plugins", groups["plugins"])]  # fmt: skip
    with_flags(translate, panels)
    app.command("translate", help=HELP)(translate)


def run_translate(flags: dict[str, Any], specs: list[Any], classes: dict[str, Any]) -> None:
    import sys

    from nmtkit.flags import configs_from_flags
    from nmtkit.plugins import load_user_dirs
    from nmtkit.translate.pipeline import run

    configs = configs_from_flags(flags, specs, classes)
    load_user_dirs(configs["plugins"].user_dir)  # before any checkpoint names a component
    files = configs["files"]

    def log(message: str) -> None:
        sys.stderr.write(f"nmtkit: {message}\n")
        sys.stderr.flush()

    run(
        checkpoints=files.checkpoint, search=configs["search"], options=configs["translate"],
        input=files.input, output=files.output, log=log,
    )  # fmt: skip
