"""`nmtkit serve`: flags from SearchConfig, TranslateConfig and ServeConfig → serve.run.run.

The ASGI stack is an optional extra; without it the command says how to install it, in one line.
"""

from __future__ import annotations

from typing import Any

import typer

HELP = (
    "Serve translations over HTTP: a JSON API with dynamic batching, Prometheus metrics and an "
    "attention explorer page at /.\n\n"
    "Binds to 127.0.0.1 unless --host says otherwise. Several -c decode as an ensemble. "
    "Needs the serve extra: pip install 'nmtkit\\[serve]'."
)

# TranslateConfig fields about files and streams, which a server does not have.
NOT_FOR_SERVE = (
    "chunk_size", "strict", "alignment", "alignment_words", "attention_json", "plot_attention",
)


def _groups() -> dict[str, Any]:
    from nmtkit.flags import config_flags
    from nmtkit.search.config import SearchConfig
    from nmtkit.serve.config import ServeConfig
    from nmtkit.translate.options import TranslateConfig

    return {
        "search": config_flags(SearchConfig, group="search", skip=("nbest",)),  # per request
        "translate": config_flags(TranslateConfig, group="translate", skip=NOT_FOR_SERVE),
        "serve": config_flags(ServeConfig, group="serve"),
    }


def register(app: typer.Typer) -> None:
    from nmtkit.cli.options import with_flags

    groups = _groups()

    def serve(
        checkpoint: list[str] = typer.Option(
            ..., "-c", "--checkpoint", help="Checkpoint (.safetensors); repeat for an ensemble."
        ),
        user_dir: list[str] = typer.Option(
            [], "--user-dir", help="Import a module registering extra components first."
        ),
        **kwargs: Any,
    ) -> None:
        run_serve(checkpoint, kwargs, groups)

    with_flags(serve, [("Search", groups["search"]), ("Pipeline", groups["translate"]),
                       ("Server", groups["serve"])])
    app.command("serve", help=HELP)(serve)


def run_serve(checkpoints: list[str], flags: dict[str, Any], groups: dict[str, Any]) -> None:
    import sys

    from nmtkit.flags import configs_from_flags
    from nmtkit.search.config import SearchConfig
    from nmtkit.serve.config import ServeConfig
    from nmtkit.serve.run import run
    from nmtkit.translate.options import TranslateConfig

    specs = [s for group in groups.values() for s in group]
    classes = {"search": SearchConfig, "translate": TranslateConfig, "serve": ServeConfig}
    configs = configs_from_flags(flags, specs, classes)
    search, options, config = configs["search"], configs["translate"], configs["serve"]

    def log(message: str) -> None:
        sys.stderr.write(f"nmtkit: {message}\n")
        sys.stderr.flush()

    run(checkpoints=checkpoints, search=search, options=options, config=config, log=log)
