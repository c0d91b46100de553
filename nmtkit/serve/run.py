"""Start the server: check options, bind, load the model in the background, serve until SIGTERM.

The socket is bound first and the model loads in a thread, so GET /v1/health answers 503
"loading" until the model is ready. SIGTERM (and a first Ctrl-C) stop accepting connections,
let the requests in flight finish, drain the batcher and exit 0.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from types import FrameType
from typing import Any

from nmtkit.errors import UsageError
from nmtkit.search.config import SearchConfig
from nmtkit.serve import require_extra
from nmtkit.serve.config import API_KEY_ENV, ServeConfig
from nmtkit.translate.options import TranslateConfig

Log = Callable[[str], None]


def _server_class() -> Any:
    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn's server, but SIGTERM is a normal stop (exit 0), not re-raised after it."""

        on_started: Callable[[list[Any]], None] = staticmethod(lambda sockets: None)

        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            super().handle_exit(sig, frame)
            if sig == signal.SIGTERM:
                self._captured_signals.remove(sig)

        async def startup(self, sockets: list[Any] | None = None) -> None:
            await super().startup(sockets)
            self.on_started([s for server in self.servers for s in server.sockets])

    return Server


def run(
    *,
    checkpoints: Sequence[str],
    search: SearchConfig,
    options: TranslateConfig,
    config: ServeConfig,
    log: Log,
) -> None:
    require_extra()
    search.check()
    options.check()
    config.check()
    from nmtkit.io.checkpoint import read_metadata

    if not checkpoints:
        raise UsageError("no checkpoint given", fix="pass -c CHECKPOINT (repeat for ensembles)")
    for path in checkpoints:  # cheap, so a wrong path fails before anything binds
        read_metadata(path)
    api_key = config.api_key or os.environ.get(API_KEY_ENV) or None
    config = config.replace(api_key=api_key)
    config.check()

    import uvicorn

    from nmtkit.serve.app import create_app
    from nmtkit.serve.state import ServerState

    state = ServerState(config, search, options)
    server = _server_class()(uvicorn.Config(
        create_app(state), host=config.host, port=config.port, log_level="warning",
        access_log=config.access_log, lifespan="on",
        # Requests in flight end within --timeout anyway; this bounds a client that stalls.
        timeout_graceful_shutdown=config.timeout + 5 if config.timeout else None,
    ))
    server.on_started = lambda sockets: _announce(sockets, config, log)
    failure: list[BaseException] = []
    loader = threading.Thread(
        target=_load, args=(state, server, checkpoints, failure, log), daemon=True
    )
    loader.start()
    server.run()
    if failure:
        raise failure[0]
    log("stopped")


def _announce(sockets: list[Any], config: ServeConfig, log: Log) -> None:
    for sock in sockets:
        host, port = sock.getsockname()[:2]
        log(f"listening on http://{host}:{port} (explorer: /, API: /v1/translate, "
            f"auth: {'bearer key' if config.api_key else 'none'})")


def _load(
    state: Any, server: Any, checkpoints: Sequence[str], failure: list[BaseException], log: Log
) -> None:
    from nmtkit.serve.engine import Engine

    start = time.perf_counter()
    try:
        state.attach(Engine.load(checkpoints, state.search, state.options))
    except BaseException as exc:  # reported by run() once the server has stopped
        failure.append(exc)
        server.should_exit = True
        return
    log(f"model ready in {time.perf_counter() - start:.2f} s ({len(checkpoints)} checkpoint(s), "
        f"device {state.engine.base.device}, precision {state.engine.base.options.precision})")
    sys.stderr.flush()
