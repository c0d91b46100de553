"""The ASGI app (Starlette): JSON API, metrics, OpenAPI schema and the attention explorer page.

Routes stay thin: validation lives in schema.py, batching in batcher.py, models and text in
engine.py. Every error leaves as a JSON object `{"status", "message", "field"?, "limit"?}`.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from nmtkit.serve.engine import request_key
from nmtkit.serve.errors import ApiError
from nmtkit.serve.openapi import openapi_schema
from nmtkit.serve.schema import clean_text, parse_request
from nmtkit.serve.state import ClientGone, ServerState

STATIC = Path(__file__).resolve().parent / "static"
Handler = Callable[[Request], Awaitable[Response]]


def error_response(exc: ApiError) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    return JSONResponse(exc.body(), status_code=exc.status, headers=headers)


def endpoint(state: ServerState, path: str, *, auth: bool = True) -> Callable[[Handler], Handler]:
    """Auth, ApiError → JSON, and a request count (and latency for translate) per status."""

    def wrap(handler: Handler) -> Handler:
        async def run(request: Request) -> Response:
            start = time.perf_counter()
            try:
                if auth:
                    state.check_auth(request.headers.get("authorization"))
                response = await handler(request)
            except ApiError as exc:
                response = error_response(exc)
            except ClientGone:
                response = Response(status_code=499)  # nobody reads it; nginx's code for this
            seconds = time.perf_counter() - start if path == "/v1/translate" else None
            state.metrics.request(path, response.status_code, seconds)
            return response

        return run

    return wrap


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refused with 413 as soon as it is known to exceed `limit` bytes."""
    declared = request.headers.get("content-length", "")
    too_big = ApiError(413, f"the request body exceeds the limit of {limit} bytes "
                       "(--max-body-bytes)", limit="max_body_bytes")
    if declared.isdigit() and int(declared) > limit:
        raise too_big
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_big
        chunks.append(chunk)
    return b"".join(chunks)


def routes(state: ServerState) -> list[Any]:
    async def translate(request: Request) -> Response:
        engine = state.ready_engine()
        body = await read_body(request, state.config.max_body_bytes)
        req = parse_request(body, state.config)
        key = request_key(req)
        state.search_for(key)
        lines = [clean_text(t) for t in req.text]
        warn = lambda m: state.log(f"warning: request line {m}")  # noqa: E731
        src_ids = await run_in_threadpool(engine.encode, lines, warn)

        async def disconnected() -> None:
            while (await request.receive())["type"] != "http.disconnect":
                pass

        hyps = await state.translate(key, src_ids, disconnected)
        items = await run_in_threadpool(engine.render, req, lines, src_ids, hyps)
        state.metrics.translated(len(lines))
        return JSONResponse({"translations": items})

    async def health(request: Request) -> Response:
        if state.engine is None:
            return JSONResponse({"status": "loading"}, status_code=503)
        return JSONResponse({"status": "ready"})

    async def model(request: Request) -> Response:
        return JSONResponse(state.ready_engine().info)

    async def metrics(request: Request) -> Response:
        return PlainTextResponse(state.metrics.render(),
                                 media_type="text/plain; version=0.0.4; charset=utf-8")

    async def openapi(request: Request) -> Response:
        return JSONResponse(openapi_schema())

    async def index(request: Request) -> Response:
        return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8")

    return [
        Route("/", endpoint(state, "/", auth=False)(index)),
        Route("/v1/translate", endpoint(state, "/v1/translate")(translate), methods=["POST"]),
        Route("/v1/health", endpoint(state, "/v1/health", auth=False)(health)),
        Route("/v1/model", endpoint(state, "/v1/model")(model)),
        Route("/metrics", endpoint(state, "/metrics")(metrics)),
        Route("/openapi.json", endpoint(state, "/openapi.json", auth=False)(openapi)),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]


def create_app(state: ServerState) -> Starlette:
    """The app; its lifespan starts the decoding thread and drains it on shutdown."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        state.batcher.start()
        try:
            yield
        finally:
            await run_in_threadpool(state.batcher.stop)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        state.metrics.request("other", exc.status_code)
        return error_response(ApiError(exc.status_code, f"{exc.detail}: {request.method} "
                                       f"{request.url.path}"))

    async def server_error(request: Request, exc: Exception) -> Response:
        state.metrics.request("other", 500)
        return error_response(ApiError(500, f"internal error: {type(exc).__name__}"))

    return Starlette(
        routes=routes(state),
        lifespan=lifespan,
        exception_handlers={HTTPException: http_error, Exception: server_error},
    )
