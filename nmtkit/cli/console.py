"""The one rich console for logs and progress: stderr, so stdout stays clean for results."""

from __future__ import annotations

from rich.console import Console


def stderr_console() -> Console:
    return Console(stderr=True, highlight=False)


def stdout_console() -> Console:
    return Console(highlight=False)
