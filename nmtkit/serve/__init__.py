"""`nmtkit serve`: an HTTP translation server with dynamic batching and an attention explorer page.

Needs the optional extra (`pip install 'nmtkit[serve]'`: Starlette and uvicorn); the rest of
nmtkit never imports this package's ASGI modules.
"""

from __future__ import annotations

from nmtkit.errors import UsageError

EXTRA_HINT = "pip install 'nmtkit[serve]'"


def require_extra() -> None:
    """A one-line UsageError when the ASGI stack is missing (before any model is loaded)."""
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as exc:
        raise UsageError(
            f"nmtkit serve needs the serve extra ({exc.name} is not installed)", fix=EXTRA_HINT
        ) from None
