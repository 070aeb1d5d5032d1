"""provider-sim composition root."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import structlog
from fastapi import FastAPI

from switchboard_provider_sim.africastalking.call import CallRunner
from switchboard_provider_sim.africastalking.gateway import Gateway, build_router
from switchboard_provider_sim.infobip import gateway as infobip_gateway
from switchboard_provider_sim.infobip.runner import InfobipRunner
from switchboard_provider_sim.settings import SimSettings
from switchboard_provider_sim.telesign import gateway as telesign_gateway
from switchboard_provider_sim.telesign.runner import TelesignRunner
from switchboard_provider_sim.voxology import gateway as voxology_gateway
from switchboard_provider_sim.voxology.runner import VoxologyRunner


def build_app(settings: SimSettings | None = None) -> FastAPI:
    settings = settings or SimSettings()
    structlog.configure(
        logger_factory=structlog.PrintLoggerFactory(),
        processors=[structlog.processors.add_log_level, structlog.processors.JSONRenderer()],
    )
    http = httpx.AsyncClient(limits=httpx.Limits(max_connections=1000, max_keepalive_connections=200))
    rng = random.Random(settings.seed)
    gateway = Gateway(
        settings,
        CallRunner(settings, http, rng),
        {
            "voxology": VoxologyRunner(settings, http, rng),
            "telesign": TelesignRunner(settings, http, rng),
            "infobip": InfobipRunner(settings, http, rng),
        },
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        for task in list(gateway.tasks):
            task.cancel()
        await http.aclose()

    app = FastAPI(title="Switchboard provider simulator", version="0.1.0", lifespan=lifespan)
    app.state.gateway = gateway
    app.include_router(build_router(gateway))
    app.include_router(voxology_gateway.build_router(gateway))
    app.include_router(telesign_gateway.build_router(gateway))
    app.include_router(infobip_gateway.build_router(gateway))

    @app.get("/health", tags=["ops"])
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
