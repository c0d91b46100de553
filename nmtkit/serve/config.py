"""ServeConfig: the server's own options (network, auth, limits, batching), declared once.

Search and pipeline options come from SearchConfig and TranslateConfig, as for `nmtkit translate`.
No torch or ASGI import here: `nmtkit serve --help` stays instant.
"""

from __future__ import annotations

import dataclasses

from nmtkit.config import ConfigBase, option
from nmtkit.errors import UsageError

API_KEY_ENV = "NMTKIT_API_KEY"


@dataclasses.dataclass(frozen=True, kw_only=True)
class ServeConfig(ConfigBase):
    """How the server listens, whom it answers, and how much one request may ask."""

    host: str = option(
        "127.0.0.1", help="Address to bind (loopback; 0.0.0.0 exposes the server to the network)."
    )
    port: int = option(8000, help="TCP port (0: any free port, printed at start-up).")
    api_key: str | None = option(
        None,
        help=f"Require 'Authorization: Bearer KEY' on the API (or set {API_KEY_ENV}).",
    )
    timeout: float = option(
        60.0, help="Seconds a translate request may take before it gets 503 (0: no limit)."
    )
    max_body_bytes: int = option(1_048_576, help="Largest request body accepted (413 above).")
    max_lines: int = option(1000, help="Most lines in one request (413 above).")
    max_line_chars: int = option(5000, help="Longest line in characters (413 above).")
    max_beam: int = option(32, help="Largest beam a request may ask for (422 above).")
    batch_wait_ms: float = option(
        5.0, help="How long the batcher waits for more requests before decoding a batch."
    )
    max_batches: int = option(
        4,
        help="Batches each decoding thread runs at once, a step of each in turn: new requests "
        "start beside the long sentences of earlier batches instead of waiting for them (1: "
        "one at a time).",
    )
    access_log: bool = option(False, help="Log one line per HTTP request to stderr.")

    def check(self) -> None:
        if not 0 <= self.port <= 65535:
            raise UsageError(f"--port must be in 0..65535, got {self.port}")
        if self.timeout < 0 or self.batch_wait_ms < 0:
            raise UsageError("--timeout and --batch-wait-ms must be >= 0")
        for name in ("max_body_bytes", "max_lines", "max_line_chars", "max_beam", "max_batches"):
            if getattr(self, name) < 1:
                raise UsageError(f"--{name.replace('_', '-')} must be >= 1")
        if self.api_key is not None and not self.api_key.strip():
            raise UsageError("--api-key is empty", fix=f"give a key or unset {API_KEY_ENV}")
