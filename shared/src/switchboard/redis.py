"""Redis client factory and the key layout of ARCHITECTURE §3.

Keys use hash tags (``{...}``) so one call's keys share a cluster slot.
"""

from __future__ import annotations

import hashlib

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

from switchboard.settings import ServiceSettings


def make_redis(settings: ServiceSettings, *, max_connections: int = 512) -> Redis:
    """An asyncio Redis client with a deadline on every step: connecting
    (``redis_connect_timeout_s``), any one command (``redis_socket_timeout_s``) and waiting for a
    free connection of the blocking pool (``redis_pool_timeout_s``; many webhook requests wait in
    ``BLPOP`` at once). A connection error is retried three times with a short backoff on a fresh
    connection, and idle connections are health-checked, so a restarted Redis is picked up again
    instead of failing the next calls on stale sockets. Raises redis-py's ``ConnectionError`` /
    ``TimeoutError`` past those deadlines."""
    pool = BlockingConnectionPool.from_url(
        settings.redis_url,
        max_connections=max_connections,
        timeout=settings.redis_pool_timeout_s,
        decode_responses=False,
        socket_connect_timeout=settings.redis_connect_timeout_s,
        socket_timeout=settings.redis_socket_timeout_s,
        health_check_interval=settings.redis_health_check_s,
        # Connection errors only: a timeout is not retried (redis-py's default would resend it three
        # times, tripling the deadline, and resend a command a frozen Redis may still run later).
        retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), 3, supported_errors=(RedisConnectionError,)),
    )
    return Redis(connection_pool=pool)


def as_bytes(value: bytes | str) -> bytes:
    """redis-py types replies as ``bytes | str``; our clients never decode, so this is bytes."""
    return value if isinstance(value, bytes) else value.encode()


def call_state_key(call_key: str) -> str:
    """``sb:call:{<call key>}``: the JSON ``CallState`` of one live call."""
    return f"sb:call:{{{call_key}}}"


def seen_key(provider: str, dedupe_key: str) -> str:
    """``sb:seen:{<provider>}:<key>``: duplicate-callback guard, value = first event id."""
    return f"sb:seen:{{{provider}}}:{dedupe_key}"


def awaiting_report_key(provider: str) -> str:
    """``sb:awaiting-report:{<provider>}``: sorted set of the call keys of one-message calls
    (Infobip) whose outcome has not been processed, scored by when they were sent (epoch s).
    The dialer adds a call when the provider accepts it; the flow-runner removes it when the end
    is processed; the ingress's report poller looks overdue ones up in the provider's logs."""
    return f"sb:awaiting-report:{{{provider}}}"


def pulled_reports_key(provider: str) -> str:
    """``sb:pulled-reports:{<provider>}``: list, the ingress poller's journal of pulled reports
    (``{"event": CallEvent JSON, "key": dedupe key}``) between the pull and their recording."""
    return f"sb:pulled-reports:{{{provider}}}"


def flow_doc_key(name: str, version: str, tenant_id: str = "default") -> str:
    """``sb:flowdoc:{<name>}:<version>`` (the default tenant's flows) or
    ``sb:flowdoc:<tenant>:{<name>}:<version>`` (a tenant folder's): one version of a flow document
    (JSON), so a call keeps running the version it started with after the file changes or the
    runner restarts. Two tenants' flows of the same name never share a key."""
    if tenant_id == "default":
        return f"sb:flowdoc:{{{name}}}:{version}"
    return f"sb:flowdoc:{tenant_id}:{{{name}}}:{version}"


def call_id_key(call_id: str) -> str:
    """``sb:callid:<call id>``: Switchboard's call id → the call key, for the REST API."""
    return f"sb:callid:{call_id}"


def dial_key(call_id: str) -> str:
    """``sb:dial:{<call id>}``: an outbound call the dialer is placing (flow, session data)."""
    return f"sb:dial:{{{call_id}}}"


def dial_result_key(request_id: str) -> str:
    """``sb:dialres:{<request id>}``: list the dialer pushes the provider's answer onto."""
    return f"sb:dialres:{{{request_id}}}"


def dial_done_key(dedupe_key: str) -> str:
    """``sb:dialed:<idempotency key>``: a dial request already placed (``SET NX``)."""
    return f"sb:dialed:{dedupe_key}"


def idempotency_key(key: str) -> str:
    """``sb:idem:<idempotency key>``: the first API request that used the key (``SET NX``;
    JSON ``{"call_id", "request_id"}``), so a repeat is answered at once with the first call."""
    return f"sb:idem:{key}"


def pace_key(scope: str, scope_id: str) -> str:
    """``sb:pace:<scope>:<id>``: the GCRA theoretical arrival time (µs since the epoch, Redis
    ``TIME``) of the next call of one pacing scope (``account``: ``<provider>/<account>``,
    ``campaign``: the campaign id); :mod:`switchboard.pacing`."""
    return f"sb:pace:{scope}:{scope_id}"


def lease_key(scope: str, scope_id: str) -> str:
    """``sb:lease:<scope>:<id>``: sorted set of the call ids holding a live-call lease of one scope
    (``account``, ``campaign``, ``tenant``), scored by the lease's expiry (ms since the epoch)."""
    return f"sb:lease:{scope}:{scope_id}"


def lease_call_key(call_id: str) -> str:
    """``sb:lease:call:<call id>``: set of the ``sb:lease:*`` keys holding one call, so its end
    releases them all."""
    return f"sb:lease:call:{call_id}"


# Status callbacks (switchboard.status_callbacks): one call's keys share a hash tag; the due set is
# one key for every call, so the outbox scripts need one Redis (or one cluster slot), as pacing does.
NOTIFY_DUE_KEY = "sb:notify:due"
"""Sorted set: call keys with a status callback to try, scored by when (ms, Redis clock)."""


def notify_cfg_key(call_key: str) -> str:
    """``sb:notify:{<call key>}:cfg``: hash of where the call's callbacks go (url, events, tenant,
    call id, the parties, campaign)."""
    return f"sb:notify:{{{call_key}}}:cfg"


def notify_queue_key(call_key: str) -> str:
    """``sb:notify:{<call key>}:q``: sorted set of the call's queued callbacks by sequence."""
    return f"sb:notify:{{{call_key}}}:q"


def notify_sent_key(call_key: str) -> str:
    """``sb:notify:{<call key>}:sent``: set of the call's events delivered or given up."""
    return f"sb:notify:{{{call_key}}}:sent"


def notify_early_key(call_key: str) -> str:
    """``sb:notify:{<call key>}:early``: hash of a call's ``ringing``/``answered`` that came before
    the dialer subscribed it (event → its fields as JSON), kept two minutes."""
    return f"sb:notify:{{{call_key}}}:early"


def notify_tries_key(call_key: str) -> str:
    """``sb:notify:{<call key>}:tries``: hash of tries per event."""
    return f"sb:notify:{{{call_key}}}:tries"


# The console's live view (switchboard_api.console): written by the flow-runner and the ingress, read
# by the api. Counters are per second or per minute and expire on their own.
def live_calls_key(tenant_id: str) -> str:
    """``sb:live:{<tenant>}``: sorted set of the call keys of a tenant's calls in progress, scored
    by when the call began (s since the epoch); the dialer adds a call the provider accepted, the
    flow-runner an inbound call; it leaves when its end is handled (a member whose state has
    expired is pruned by the reader)."""
    return f"sb:live:{{{tenant_id}}}"


def call_starts_key(tenant_id: str, second: int) -> str:
    """``sb:starts:{<tenant>}:<epoch s>``: calls of a tenant that joined its live set in that
    second (expires after 2 minutes): the console's calls per second."""
    return f"sb:starts:{{{tenant_id}}}:{second}"


def fallbacks_key(minute: int) -> str:
    """``sb:fallbacks:<epoch minute>``: live callbacks answered with the provider's fallback in that
    minute, by every ingress (platform-wide; expires after an hour)."""
    return f"sb:fallbacks:{minute}"


def console_session_key(session_id: str) -> str:
    """``sb:console:session:<sha256 of the session id>``: a console login (JSON: key id, CSRF
    token), idle expiry; the id itself is never stored (switchboard_api.auth)."""
    return "sb:console:session:" + hashlib.sha256(session_id.encode()).hexdigest()


def console_phone_key(number: str) -> str:
    """``sb:console:phone:<E.164>``: the tenant that made a console phone on the simulator (an hour)."""
    return f"sb:console:phone:{number}"
