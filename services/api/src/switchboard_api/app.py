"""api composition root: settings → logging → database, Redis, broker → auth → routes → health.

The control plane: placing calls and call control, per tenant, behind API keys, and the supervisor
console (``/console``, :mod:`switchboard_api.console`). It is served on
its own port (``SB_API_PORT``), apart from the webhook-ingress whose provider callbacks face the
internet; the api stays inside the cluster or behind the customer's gateway.
"""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from switchboard.accounts import ProviderClients
from switchboard.campaigns.store import LazyPool
from switchboard.flow.repository import FlowRepository
from switchboard.kafka import make_broker
from switchboard.logging import configure_logging
from switchboard.redis import make_redis
from switchboard.service import redis_check, service_app
from switchboard.state import StateStore
from switchboard_api import calls, campaigns, cdrs, console, provider_api, reports
from switchboard_api import flows as flow_routes
from switchboard_api.auth import Auth
from switchboard_api.settings import ApiSettings
from switchboard_api.tenancy import TenantStore


def build_app(settings: ApiSettings | None = None) -> FastAPI:
    settings = settings or ApiSettings()
    configure_logging("api", settings.log_level, settings.log_json)
    broker = make_broker(settings, client_id="api")
    redis = make_redis(settings)
    engine = create_async_engine(settings.async_database_url, pool_size=5)
    auth = Auth(TenantStore(engine), redis, session_ttl_s=settings.console_session_s)
    clients = ProviderClients()
    db = LazyPool(settings.database_url)
    flows = FlowRepository(settings.flows_dir)

    async def db_ready() -> bool:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return True

    app = service_app(
        "Switchboard API",
        broker=broker,
        consume=False,
        checks={"redis": redis_check(redis), "postgresql": db_ready},
        max_body_bytes=settings.max_body_bytes,
        body_limits=[(path, settings.campaign_upload_max_bytes) for path in campaigns.UPLOAD_ROUTES],
        closers=[clients.aclose, redis.aclose, engine.dispose, db.close],
    )
    app.include_router(calls.build_router(settings, broker, redis, flows, clients, auth))
    app.include_router(campaigns.build_router(settings, clients, flows, auth, db, redis))
    app.include_router(provider_api.build_router(clients, StateStore(redis), auth))
    # the CDR routes before /v1/calls/{call_id}/…: /v1/calls.csv must not be read as a call id
    app.include_router(cdrs.build_router(engine, auth))
    app.include_router(reports.build_router(engine, auth))
    app.include_router(flow_routes.build_router(flows, engine, auth))
    console.mount(app, settings, auth, redis, flows)
    return app
