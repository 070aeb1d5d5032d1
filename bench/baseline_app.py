"""Baseline for ``webhook_roundtrip.py``: the same reply computed in-process, no Kafka hop.

The same steps as the real path minus Kafka: parse the AT form, drop duplicates (``SET NX``),
load the call state from Redis, run the flow with the shared engine, save the state, render the
XML and answer. Run as its own uvicorn process, like the ingress.
"""

from __future__ import annotations

import os
from pathlib import Path

import uvicorn
from fastapi import FastAPI, Request, Response

from switchboard.flow.actions.base import EngineSettings
from switchboard.flow.repository import FlowRepository
from switchboard.providers.africastalking import dedupe_key, parse_callback, render
from switchboard.redis import make_redis, seen_key
from switchboard.settings import ServiceSettings
from switchboard.state import StateStore
from switchboard_flow_runner.domain import apply_event, new_inbound_state


def build_app() -> FastAPI:
    settings = ServiceSettings()
    redis = make_redis(settings)
    store = StateStore(redis)
    flows = FlowRepository(Path(os.environ.get("SB_FLOWS_DIR", "flows")))
    engine = EngineSettings(callback_url=os.environ.get("SB_CALLBACK_URL"))
    app = FastAPI()

    @app.post("/voice/instruct")
    async def instruct(request: Request) -> Response:
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        event = parse_callback(form)
        await redis.set(seen_key("africastalking", dedupe_key(form)), event.event_id, nx=True, ex=3600)
        state = await store.load(event.call_key) or new_inbound_state(
            event, flows.route(event.provider, event.destination_number)
        )
        flow = flows.get(state.flow_ref) if state.flow_ref else None
        transition = apply_event(state, event, flow, engine)
        transition.state.mark_applied(event.event_id)
        await store.save(transition.state)
        body, content_type = render(transition.actions)
        return Response(body, media_type=content_type)

    return app


if __name__ == "__main__":
    uvicorn.run(
        build_app(), host="127.0.0.1", port=int(os.environ["BASELINE_PORT"]), log_level="warning", access_log=False
    )
