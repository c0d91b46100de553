"""The rich consoles: logs and progress on stderr, results on stdout.

When a stream is not a terminal (a pipe, a file, CI), rich would wrap and cut tables at 80
columns; 120 keeps the summary tables whole in logs.
"""

from __future__ import annotations

import sys

from rich.console import Console

PIPE_WIDTH = 120


def _width(stream: object) -> int | None:
    isatty = getattr(stream, "isatty", None)
    return None if isatty is not None and isatty() else PIPE_WIDTH


def stderr_console() -> Console:
    return Console(stderr=True, highlight=False, width=_width(sys.stderr))


def stdout_console() -> Console:
    return Console(highlight=False, width=_width(sys.stdout))
