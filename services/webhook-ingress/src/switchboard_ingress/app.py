"""webhook-ingress composition root: settings → logging → clients → routes → lifespan → health."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from switchboard.kafka import make_broker
from switchboard.logging import configure_logging
from switchboard.redis import make_redis
from switchboard_ingress import callbacks, calls
from switchboard_ingress.settings import IngressSettings


def build_app(settings: IngressSettings | None = None) -> FastAPI:
    settings = settings or IngressSettings()
    configure_logging("webhook-ingress", settings.log_level, settings.log_json)
    broker = make_broker(settings, client_id="webhook-ingress")
    redis = make_redis(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await broker.connect()
        yield
        await broker.stop()
        await redis.aclose()

    app = FastAPI(title="Switchboard webhook-ingress", version="0.1.0", lifespan=lifespan)
    app.include_router(calls.build_router(settings, broker, redis))
    app.include_router(callbacks.build_router(callbacks.CallbackHandler(settings, broker, redis)))

    @app.get("/health", tags=["ops"], summary="Liveness")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/ready", tags=["ops"], summary="Readiness: Redis and Kafka reachable")
    async def ready() -> JSONResponse:
        checks = {"redis": await _ping_redis(redis), "kafka": await broker.ping(timeout=2)}
        return JSONResponse({"ready": all(checks.values()), **checks}, status_code=200 if all(checks.values()) else 503)

    return app


async def _ping_redis(redis: Any) -> bool:
    try:
        return bool(await redis.ping())
    except Exception:
        return False
