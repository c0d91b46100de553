"""The only exceptions users see: each becomes one line on stderr and a non-zero exit."""

from __future__ import annotations

from pathlib import Path


class NmtkitError(Exception):
    """Base class for errors that are the user's to fix; never shown with a traceback."""

    exit_code: int = 1


class UsageError(NmtkitError):
    """Bad input: names the file (and line) at fault and, where known, how to fix it.

    Rendered as ``file:line: message (fix)`` so editors and terminals can jump to the place.
    """

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        line: int | None = None,
        fix: str | None = None,
    ) -> None:
        self.message = message
        self.file = None if file is None else str(file)
        self.line = line
        self.fix = fix
        super().__init__(self.render())

    def render(self) -> str:
        where = ""
        if self.file is not None:
            where = self.file if self.line is None else f"{self.file}:{self.line}"
            where += ": "
        tail = f" ({self.fix})" if self.fix else ""
        return f"{where}{self.message}{tail}"
