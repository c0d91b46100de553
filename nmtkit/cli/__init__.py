"""The `nmtkit` command: one typer app, one module per subcommand, one place that shows errors.

Each subcommand module exposes `register(app)`. `main()` turns NmtkitError into one line on stderr
and a non-zero exit, so users never see a traceback for their own mistakes.
"""

from __future__ import annotations

import sys

import typer

from nmtkit import __version__
from nmtkit.errors import NmtkitError

SUBCOMMANDS = ("preprocess", "train", "translate", "score", "models", "average")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"nmtkit {__version__}")
        raise typer.Exit()


def invoked_command(argv: list[str] | None) -> str | None:
    """The subcommand named in argv (first non-option word), None if unknown."""
    if argv is None:
        return None
    return next((a for a in argv if not a.startswith("-")), "")


def build_app(argv: list[str] | None = None) -> typer.Typer:
    """Build the app; subcommand modules are imported here, not at package import.

    When argv names a subcommand, only that one is imported and registered. `train` generates
    its flags from the registries (importing torch and every component), so for the top-level
    help it registers a light stub instead.
    """
    import importlib

    app = typer.Typer(
        name="nmtkit",
        help="Attention-based neural machine translation: preprocess, train, translate, score.",
        no_args_is_help=True,
        rich_markup_mode="rich",
        pretty_exceptions_enable=False,
        add_completion=False,
    )

    @app.callback()
    def root(
        version: bool = typer.Option(
            False, "--version", callback=_version, is_eager=True, help="Print the version."
        ),
    ) -> None:
        """nmtkit: attention-based sequence-to-sequence translation."""

    command = invoked_command(argv)
    # Running one subcommand imports only its module (start-up time matters for translate).
    names = (command,) if command in SUBCOMMANDS else SUBCOMMANDS
    for name in names:
        module = importlib.import_module(f"nmtkit.cli.{name}")
        if name == "train":
            module.register(app, full=command in (None, "train"))
        else:
            module.register(app)
    return app


def error_line(message: str) -> None:
    sys.stderr.write(f"nmtkit: error: {message}\n")
    sys.stderr.flush()


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    try:
        from nmtkit.plugins import load_plugins

        args = sys.argv[1:] if argv is None else argv
        load_plugins(args)
        app = build_app(args)
        app(args=argv, prog_name="nmtkit", standalone_mode=True)
    except NmtkitError as exc:
        error_line(str(exc))
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        error_line("interrupted")
        sys.exit(130)
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): not an error; silence the flush at exit.
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(0)
