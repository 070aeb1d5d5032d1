"""The HTTP shell every service shares (STYLE §13): lifespan, liveness and readiness.

``service_app`` returns a FastAPI app whose lifespan starts the Kafka broker (consumers) or only
connects it (producers), and on shutdown stops it (finishing in-flight handlers) and closes the
other clients. ``/metrics`` serves :mod:`switchboard.metrics`;
``/health`` is liveness; ``/ready`` runs each named check (an async callable
returning a bool) and answers 503 with the failing names when one is false. Errors are answered
as ``problem+json`` (:func:`switchboard.problems.install`).
"""

from __future__ import annotations

import asyncio
import gc
import inspect
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response
from faststream.kafka import KafkaBroker
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

from switchboard import __version__, metrics, problems, tracing
from switchboard.tasks import cancel_and_wait

Check = Callable[[], Awaitable[bool]]


async def _safely(check: Check) -> bool:
    try:
        return bool(await check())
    except Exception:
        return False


GC_THRESHOLDS = tuple(int(n) for n in os.environ.get("SB_GC_THRESHOLDS", "10000,20,20").split(","))
"""``gc.set_threshold`` for every service (``SB_GC_THRESHOLDS``, Python's default is 700,10,10):
a batch of 2,000 events allocates tens of thousands of containers, and at 700 the collector ran
dozens of times per batch (``bench/cdr_sink.py``)."""


def settle_heap() -> None:
    """Move everything alive after start-up (modules, models, routes: ~10⁵ objects never freed)
    out of the collector's reach (``gc.freeze``) and set :data:`GC_THRESHOLDS`. Collections then
    walk only what the service allocated since, the way Instagram runs CPython servers."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def service_app(
    title: str,
    *,
    broker: KafkaBroker,
    consume: bool,
    checks: Mapping[str, Check] | None = None,
    closers: Sequence[Callable[[], Awaitable[Any]]] = (),
    info: Callable[[], dict[str, Any]] | None = None,
    on_start: Sequence[Callable[[], Any]] = (),
    drains: Sequence[Callable[[], Awaitable[Any]]] = (),
    max_body_bytes: int = 1 << 20,
    body_limits: Sequence[tuple[str, int]] = (),
    on_started: Sequence[Callable[[], Any]] = (),
) -> FastAPI:
    """A FastAPI app for a service. ``consume``: start the broker's subscribers (True) or only
    connect its producer (False). ``on_start`` run before the broker starts; on shutdown
    ``drains`` finish in-flight work while the broker is still up, then the broker stops and
    ``closers`` run, in order. ``on_started`` run once the broker is up (background tasks that
    publish). Request bodies over ``max_body_bytes`` get 413 before parsing; ``body_limits``:
    ``(path regex, bytes)`` pairs for routes with a limit of their own (streamed uploads)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settle_heap()
        for start in on_start:
            if inspect.isawaitable(started := start()):
                await started
        await (broker.start() if consume else broker.connect())
        for started in on_started:
            if inspect.isawaitable(result := started()):
                await result
        yield
        for drain in drains:
            await drain()
        await broker.stop()
        for close in closers:
            await close()

    app = FastAPI(title=title, version=__version__, lifespan=lifespan)
    if tracing.enabled():  # make_broker created the process's provider from SB_TRACE_EXPORTER
        FastAPIInstrumentor.instrument_app(
            app, excluded_urls="/health$,/ready$,/metrics$", exclude_spans=["receive", "send"]
        )
    app.state.broker = broker  # tests run the app on FastStream's TestKafkaBroker(app.state.broker)
    problems.install(app, max_body_bytes=max_body_bytes, body_limits=body_limits)
    all_checks: dict[str, Check] = {"kafka": lambda: broker.ping(timeout=2), **(checks or {})}

    @app.get("/metrics", tags=["ops"], summary="Prometheus metrics (text exposition format)")
    async def metrics_endpoint() -> Response:
        return Response(metrics.exposition(), media_type=metrics.CONTENT_TYPE_LATEST)

    @app.get("/health", tags=["ops"], summary="Liveness")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(
        "/ready",
        tags=["ops"],
        summary="Readiness: dependencies reachable",
        responses={503: {"description": "a dependency is down: its name is false in the body"}},
    )
    async def ready() -> JSONResponse:
        results = {name: await _safely(check) for name, check in all_checks.items()}
        ok = all(results.values())
        body = {"ready": ok, **results, **(info() if info else {})}
        return JSONResponse(body, status_code=200 if ok else 503)

    return app


class BackgroundTask:
    """A service's loop that runs beside its handlers: ``start`` (an ``on_started`` hook) runs
    ``loop()`` in a task, ``stop`` (a ``drains`` hook) cancels it and waits for it to end."""

    def __init__(self, loop: Callable[[], Awaitable[None]]) -> None:
        self.loop = loop
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.ensure_future(self.loop())

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None


def redis_check(redis: Any) -> Check:
    async def ping() -> bool:
        return bool(await redis.ping())

    return ping
