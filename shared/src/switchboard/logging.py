"""One logging setup for every service (structlog).

JSON lines when stderr is not a TTY (containers, CI, the dev launcher's log files), a readable
console renderer otherwise. Per-call context (``call_key``, ``event_id``, ``flow_id``) is bound with
:func:`bind_call` into contextvars, so every line logged while handling that call carries it.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog

from switchboard import tracing


def configure_logging(service: str, level: str = "INFO", json: bool | None = None) -> None:
    """Configure structlog and the stdlib root logger for ``service``.

    ``json=None`` picks JSON unless stderr is a TTY. Every line has the same shape whoever logs
    it: the stdlib's records (uvicorn, aiokafka, FastStream, httpx) go through structlog's
    ``ProcessorFormatter`` with the same processors, so they too are JSON with ``service``, the
    bound call context and, inside a span, ``trace_id``/``span_id`` (:mod:`switchboard.tracing`).
    Start uvicorn with ``log_config=None`` (:func:`switchboard.entrypoint.serve`) so that it keeps
    to the root logger. Idempotent: safe to call again in tests.
    """
    use_json = (not sys.stderr.isatty()) if json is None else json
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        tracing.log_ids,
    ]
    renderer: Any = structlog.processors.JSONRenderer() if use_json else structlog.dev.ConsoleRenderer()
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[structlog.stdlib.add_logger_name, *shared, structlog.stdlib.ExtraAdder()],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("aiokafka", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(service=service)


def bind_call(**values: Any) -> None:
    """Bind call context (``call_key``, ``event_id``, ``flow_id`` …) for the current task, and set
    it on the current span as ``switchboard.<name>`` (``switchboard.call_key``: :mod:`switchboard.tracing`)."""
    present = {k: v for k, v in values.items() if v is not None}
    structlog.contextvars.bind_contextvars(**present)
    tracing.annotate(**{f"switchboard.{k}": v for k, v in present.items()})


def unbind_call(*keys: str) -> None:
    """Remove call context bound by :func:`bind_call`."""
    structlog.contextvars.unbind_contextvars(*keys)


def get_logger(name: str | None = None) -> Any:
    """A structlog logger; ``name`` is added as the ``logger`` field."""
    return structlog.get_logger(name) if name else structlog.get_logger()
