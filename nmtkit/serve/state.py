"""ServerState: what the routes share (config, engine once loaded, batcher, metrics).

One instance per app, created by `create_app`; nothing lives at module level.
"""

from __future__ import annotations

import asyncio
import hmac
import sys
from typing import Any

from nmtkit.errors import UsageError
from nmtkit.search.config import SearchConfig
from nmtkit.serve.batcher import Batcher, Job
from nmtkit.serve.config import ServeConfig
from nmtkit.serve.engine import Engine, SearchKey
from nmtkit.serve.errors import ApiError
from nmtkit.serve.metrics import Metrics
from nmtkit.translate.options import TranslateConfig


class ClientGone(Exception):
    """The client disconnected before its translation was ready."""


class ServerState:
    def __init__(
        self, config: ServeConfig, search: SearchConfig, options: TranslateConfig,
        engine: Engine | None = None,
    ) -> None:
        self.config, self.search, self.options = config, search, options
        self.engine: Engine | None = None
        self.metrics = Metrics()
        self.batcher = Batcher(
            self._start,
            max_sentences=options.batch_size,
            max_tokens=options.max_tokens,
            wait_s=config.batch_wait_ms / 1000,
            max_runs=config.max_batches,
            on_batch=self.metrics.batch,
        )

        if engine is not None:
            self.attach(engine)

    def attach(self, engine: Engine) -> None:
        """Serve with a loaded engine. On CPU that is one decoding worker per torch thread,
        each on one thread of its own: batches side by side, as `translate` decodes them."""
        if engine.workers > 1:
            import torch

            torch.set_num_threads(1)  # worker threads take it at their first operation
            self.batcher.add_workers(engine.workers - 1)
        self.engine = engine

    def _start(self, key: Any, src_ids: list[list[int]]) -> Any:
        assert self.engine is not None  # jobs are only accepted once it is loaded
        return self.engine.start(key, src_ids)

    def log(self, message: str) -> None:
        sys.stderr.write(f"nmtkit: {message}\n")
        sys.stderr.flush()

    def check_auth(self, authorization: str | None) -> None:
        key = self.config.api_key
        if key is None:
            return
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(),
                                                                 key.encode()):
            raise ApiError(401, "missing or wrong API key: send 'Authorization: Bearer KEY'")

    def ready_engine(self) -> Engine:
        if self.engine is None:
            raise ApiError(503, "the model is still loading; retry when GET /v1/health is ready")
        return self.engine

    def search_for(self, key: SearchKey) -> SearchConfig:
        """The request's search settings, checked like translate's flags (422 naming the field)."""
        engine = self.ready_engine()
        search = engine.search_for(key)
        if key.nbest > search.beam_size and not search.sampling:
            raise ApiError(422, f"nbest {key.nbest} exceeds the beam size {search.beam_size}",
                           field="nbest")
        try:
            search.check()
        except UsageError as exc:
            raise ApiError(422, exc.message) from None
        return search

    async def translate(
        self, key: SearchKey, src_ids: list[list[int]], disconnected: Any
    ) -> list[list[Any]]:
        """Queue a request's sentences and wait for them, the client leaving, or --timeout."""
        loop = asyncio.get_running_loop()
        finished: asyncio.Future[None] = loop.create_future()

        def resolve(_: Job) -> None:
            loop.call_soon_threadsafe(lambda: finished.done() or finished.set_result(None))

        job = Job(key=key, src_ids=src_ids, on_done=resolve)
        total = job.pending
        self.metrics.queued(total)
        try:
            try:
                self.batcher.submit(job)
            except RuntimeError:
                raise ApiError(503, "the server is shutting down") from None
            gone = asyncio.ensure_future(disconnected())
            try:
                done, _ = await asyncio.wait(
                    {finished, gone}, timeout=self.config.timeout or None,
                    return_when=asyncio.FIRST_COMPLETED,
                )
            finally:
                gone.cancel()
            if finished in done:
                if job.error is not None:
                    raise ApiError(500, f"decoding failed: {type(job.error).__name__}")
                return job.results
            self.metrics.cancelled(self.batcher.cancel(job))
            if gone in done:
                raise ClientGone
            raise ApiError(503, f"the translation took longer than --timeout "
                           f"{self.config.timeout:g} s; retry later or send fewer lines",
                           limit="timeout")
        finally:
            self.metrics.queued(-total)
