"""flow-runner composition root: settings → logging → flows → clients → subscriber → health."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from faststream import AckPolicy

from switchboard.events import CallEvent, decode
from switchboard.flow.interpreter import INTERNAL_ERRORS
from switchboard.flow.repository import FlowRepository
from switchboard.kafka import OffsetCommitter, make_broker, run_guarded
from switchboard.logging import configure_logging, unbind_call
from switchboard.redis import make_redis
from switchboard.service import redis_check, service_app
from switchboard.topics import Topic
from switchboard_flow_runner.fetcher import Fetcher
from switchboard_flow_runner.handler import CallEventHandler
from switchboard_flow_runner.policies import PolicyCache
from switchboard_flow_runner.settings import FlowRunnerSettings

GROUP_ID = "flow-runner"


def build_app(settings: FlowRunnerSettings | None = None) -> FastAPI:
    settings = settings or FlowRunnerSettings()
    configure_logging("flow-runner", settings.log_level, settings.log_json)
    broker = make_broker(settings, client_id="flow-runner")
    redis = make_redis(settings)
    flows = FlowRepository(settings.flows_dir, redis=redis)
    fetcher = Fetcher(flows, max_bytes=settings.webhook_max_bytes)
    policies = (
        PolicyCache(settings.database_url, ttl_s=settings.policy_ttl_s, numbers_of=flows.routed_numbers)
        if settings.dial_guard
        else None
    )
    handler = CallEventHandler(settings, broker, redis, flows, fetcher, policies)

    committer = OffsetCommitter(settings.commit_interval_s)

    # At least once: a record's offset is marked after the state is saved and the reply pushed,
    # and committed within commit_interval_s (OffsetCommitter); idempotent because each event id
    # is applied once (CallState.applied_events). Partitions run concurrently; one call's events
    # stay in order on its partition.
    @broker.subscriber(
        Topic.CALL_EVENTS.value,
        group_id=GROUP_ID,
        ack_policy=AckPolicy.MANUAL,
        auto_offset_reset="earliest",
        max_workers=min(settings.runner_concurrency, settings.kafka_partitions),  # no idle consumers
        fetch_max_wait_ms=settings.fetch_max_wait_ms,
        session_timeout_ms=settings.runner_session_timeout_ms,
        heartbeat_interval_ms=settings.runner_heartbeat_ms,
    )
    async def on_call_event() -> None:
        # The message from the context and no parameters: a ``KafkaMessage`` parameter costs a
        # thread-pool hop per message, and a ``bytes`` one has FastStream decode the JSON first.
        msg = broker.context.get_local("message")
        body: bytes = msg.body
        key = msg.raw_message.key
        await run_guarded(
            broker,
            Topic.CALL_EVENTS.value,
            body=body,
            key=key,
            handle=lambda: handler.handle(decode(CallEvent, body)),
            max_retries=settings.consumer_max_retries,
            transient_retry_s=settings.transient_retry_s,
        )
        committer.mark(msg.consumer, msg.raw_message)
        unbind_call("call_key", "event_id")

    app = service_app(
        "Switchboard flow-runner",
        broker=broker,
        consume=True,
        checks={"redis": redis_check(redis)},
        on_start=[committer.start],
        closers=[committer.stop, fetcher.aclose, redis.aclose, *([policies.close] if policies else [])],
        info=lambda: {"flows": sorted(flows.current), "engine_internal_errors": dict(INTERNAL_ERRORS)},
    )

    @app.post("/flows/refresh", tags=["ops"], summary="Read SB_FLOWS_DIR again now")
    async def refresh_flows() -> dict[str, Any]:
        """Load changed flow files and routes at once instead of within ``reload_s`` (2 s): for an
        operator who just published a flow, and for tests. A broken edit is refused (logged) and
        the version before it stays current. Answers ``{"flows": {name: version}, "routes":
        {provider: {number: flow}}, "default": flow, "tenants": {tenant: {"flows": …, "routes": …}}}``
        as now loaded."""
        flows.refresh(force=True)
        await flows.save_versions()
        return {
            "flows": {name: flow.version for name, flow in sorted(flows.current.items())},
            "routes": flows.routes,
            "default": flows.default_route,
            "tenants": {
                tenant: {"flows": {n: f.version for n, f in sorted(repo.current.items())}, "routes": repo.routes}
                for tenant, repo in sorted(flows.tenants.items())
            },
        }

    return app
