"""OpenTelemetry tracing: one provider per process, off unless ``SB_TRACE_EXPORTER`` names one.

A callback's trace, with every span carrying ``switchboard.call_key`` (set by
:func:`switchboard.logging.bind_call`):

- webhook-ingress: the HTTP server span (``POST /providers/...``, FastAPI's instrumentation), and
  inside it the Kafka publish span of the ``CallEvent`` (FastStream's ``KafkaTelemetryMiddleware``,
  which writes the W3C ``traceparent`` into the record's headers);
- flow-runner: the Kafka process span, a child of the ingress's publish (the context read back from
  the headers), and in it ``flow.turn`` (the flow engine's turn, with its fetches) and
  ``flow.reply`` (the reply written to Redis with the state and published to the waiting ingress);
- every other Kafka hop (dial requests, sessions ended, CDRs) the same way, so one call's spans
  join across the dialer, the runner, the cdr-sink and the notifier.

Exporters (``SB_TRACE_EXPORTER``): ``none`` (the default: no provider is installed and the
OpenTelemetry API's no-op tracer costs nothing worth measuring), ``otlp`` (OTLP over HTTP, to
``OTEL_EXPORTER_OTLP_ENDPOINT`` / ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``, the SDK's own
variables; batched), ``jsonl`` (one JSON object per finished span appended to ``SB_TRACE_FILE``:
for tests and for a look without a collector). Sampling follows the SDK's ``OTEL_TRACES_SAMPLER``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

import orjson
import structlog
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanProcessor,
)

CALL_KEY = "switchboard.call_key"
"""The span attribute that names the call (``<provider>:<provider call id>``)."""
EXPORTERS = ("none", "otlp", "jsonl")

_lock = threading.Lock()
_provider: TracerProvider | None = None


def exporter_name() -> str:
    """``SB_TRACE_EXPORTER``, lower-cased. Raises ``ValueError`` for a name not in :data:`EXPORTERS`."""
    name = os.environ.get("SB_TRACE_EXPORTER", "none").strip().lower() or "none"
    if name not in EXPORTERS:
        raise ValueError(f"SB_TRACE_EXPORTER={name!r}: expected one of {', '.join(EXPORTERS)}")
    return name


def _text(value: Any) -> str:
    if isinstance(value, bytes):  # FastStream records a Kafka key as bytes
        return value.decode(errors="replace")
    return str(value)


def _one_line(span: ReadableSpan) -> str:
    """A span as one JSON line, in the shape of the SDK's ``ReadableSpan.to_json`` (ids as
    ``0x``-prefixed hex) but with bytes attributes as text (``to_json`` refuses them)."""
    context = span.get_span_context()
    assert context is not None
    return (
        orjson.dumps(
            {
                "name": span.name,
                "context": {"trace_id": f"0x{context.trace_id:032x}", "span_id": f"0x{context.span_id:016x}"},
                "kind": str(span.kind),
                "parent_id": f"0x{span.parent.span_id:016x}" if span.parent else None,
                "start_time_ns": span.start_time,
                "end_time_ns": span.end_time,
                "status": span.status.status_code.name,
                "attributes": dict(span.attributes or {}),
                "resource": {"attributes": dict(span.resource.attributes)},
            },
            default=_text,
        ).decode()
        + "\n"
    )


def _processor(name: str) -> SpanProcessor:
    if name == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return BatchSpanProcessor(OTLPSpanExporter())
    path = os.environ.get("SB_TRACE_FILE")
    if not path:
        raise ValueError("SB_TRACE_EXPORTER=jsonl needs SB_TRACE_FILE (the file spans are appended to)")
    out: IO[str] = open(path, "a", buffering=1, encoding="utf-8")  # noqa: SIM115 (open for the process's life)
    return SimpleSpanProcessor(ConsoleSpanExporter(out=out, formatter=_one_line))


def provider(service: str) -> TracerProvider | None:
    """The process's tracer provider, created on the first call (named ``service``) and installed
    as OpenTelemetry's global one; None when tracing is off. Raises ``ValueError`` for an unknown
    exporter or ``jsonl`` without ``SB_TRACE_FILE`` (at start-up, not at the first span)."""
    global _provider
    name = exporter_name()
    if name == "none":
        return None
    with _lock:
        if _provider is None:
            created = TracerProvider(resource=Resource.create({"service.name": service}))
            created.add_span_processor(_processor(name))
            trace.set_tracer_provider(created)
            _provider = created
        return _provider


def enabled() -> bool:
    return _provider is not None


@contextmanager
def span(name: str, **attributes: Any) -> Iterator[Any]:
    """A span named ``name`` around the block, child of the current one (a no-op when tracing is
    off), with the call bound by :func:`switchboard.logging.bind_call` as ``switchboard.call_key``;
    ``attributes`` with None values are left out."""
    tracer = trace.get_tracer("switchboard")
    call_key = structlog.contextvars.get_contextvars().get("call_key")
    present = {k: v for k, v in {CALL_KEY: call_key, **attributes}.items() if v is not None}
    with tracer.start_as_current_span(name, attributes=present) as current:
        yield current


def annotate(**attributes: Any) -> None:
    """Set ``attributes`` on the current span (none when tracing is off)."""
    current = trace.get_current_span()
    if current.is_recording():
        current.set_attributes({k: v for k, v in attributes.items() if v is not None})


def log_ids(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    """structlog processor: ``trace_id`` and ``span_id`` (hex) of the current span, when there is one."""
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        event["trace_id"] = format(context.trace_id, "032x")
        event["span_id"] = format(context.span_id, "016x")
    return event
