"""The `nmtkit` command: one typer app, one module per subcommand, one place that shows errors.

Each subcommand module exposes `register(app)`. `main()` turns NmtkitError into one line on stderr
and a non-zero exit, so users never see a traceback for their own mistakes.
"""

from __future__ import annotations

import os
import sys

import typer

from nmtkit import __version__
from nmtkit.errors import NmtkitError

SUBCOMMANDS = ("preprocess", "train", "translate", "score", "models", "average", "serve")
# Subcommands that leave through os._exit (see console_main). Not train: DDP process groups and
# TensorBoard writers shut down in their own atexit hooks.
FAST_EXIT = frozenset({"translate", "score", "models", "average", "preprocess"})


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
        _silence_stdout()
        sys.exit(0)
    except OSError as exc:
        from nmtkit.io.atomic import disk_full_errno

        if disk_full_errno(exc) is None:
            raise
        error_line(f"cannot write {exc.filename or 'standard output'}: {exc.strerror}")
        _silence_stdout()
        sys.exit(1)


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the flush at exit cannot fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def console_main() -> None:
    """Entry point of the `nmtkit` script and `python -m nmtkit`: main(), then a fast exit.

    Interpreter teardown with torch loaded is a noticeable part of a short command's run
    time (benchmarks/README.md, "Start-up"). By the time main() returns every output file is
    closed and renamed, so for the FAST_EXIT subcommands we flush the standard streams and skip
    the teardown.
    """
    try:
        main()
        code: int = 0
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            code = exc.code or 0
        else:  # sys.exit("message"): Python prints it and exits 1
            sys.stderr.write(f"{exc.code}\n")
            code = 1
    if invoked_command(sys.argv[1:]) not in FAST_EXIT:
        sys.exit(code)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError) as exc:  # a closed pipe or stream: nothing to say
            if stream is sys.stdout and code == 0 and _disk_full(exc):
                error_line(f"cannot write standard output: {getattr(exc, 'strerror', exc)}")
                code = 1
    os._exit(code)


def _disk_full(exc: BaseException) -> bool:
    from nmtkit.io.atomic import disk_full_errno

    return disk_full_errno(exc) is not None
