"""Prometheus metrics: one registry per process, served on every service's ``GET /metrics``
(:func:`switchboard.service.service_app`), text exposition format 0.0.4 (prometheus-client).

What each metric counts, and where it is counted (one place each):

- ``switchboard_callbacks_total{provider, result}``: provider callbacks answered by the
  webhook-ingress; ``result`` is ``reply`` (the flow's reply), ``fallback`` (the provider's
  fallback: the runner missed the reply deadline or Redis/Kafka failed), ``refused`` (4xx: a
  malformed or unauthenticated callback), ``unavailable`` (503 to a notification the provider
  retries), ``error`` (anything else).
- ``switchboard_callback_seconds{provider}``: histogram of the ingress's time to answer a callback
  (s, arrival to response), every result included.
- ``switchboard_duplicate_callbacks_total{provider}``: callbacks answered as a duplicate of an
  earlier copy (the ``SET NX`` guard).
- ``switchboard_dlq_records_total{topic}``: records sent to ``<topic>.dlq``, any service.
- ``switchboard_dial_attempts_total{provider, outcome}``: the dialer's attempts, ``outcome`` =
  ``accepted`` or the provider's refusal status (``InvalidPhoneNumber`` …).
- ``switchboard_dial_pacing_seconds``: histogram of how long a dial request waited for its pace
  slot and leases (s).
- ``switchboard_cdrs_written_total``: CDR rows the cdr-sink committed.
- ``switchboard_live_calls{provider, account}``: outbound calls holding a live-call lease on a
  provider account now (the dialer's lease sets in Redis, read by every dialer replica every
  ``SB_LIVE_CALLS_EVERY_S``: the same value from each, so aggregate with ``max``, not ``sum``).
- ``switchboard_status_callbacks_total{result}``: status callbacks POSTed by the notifier;
  ``result`` is ``delivered`` (2xx), ``retry`` (failed, tried again later) or ``given_up`` (sent
  to ``voice.status-callbacks.dlq``).

Consumer lag is not exported by the services: KEDA and a Kafka exporter read it from the brokers'
committed offsets, which is where it is true. Labels are bounded: providers, a handful of results,
the providers' documented statuses, topic names.
"""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

__all__ = [
    "CALLBACKS",
    "CALLBACK_SECONDS",
    "CDRS_WRITTEN",
    "CONTENT_TYPE_LATEST",
    "DIAL_ATTEMPTS",
    "DIAL_PACING_SECONDS",
    "DLQ_RECORDS",
    "DUPLICATES",
    "LIVE_CALLS",
    "STATUS_CALLBACKS",
    "exposition",
]

CALLBACKS = Counter("switchboard_callbacks_total", "Provider callbacks answered by the ingress", ["provider", "result"])
CALLBACK_SECONDS = Histogram(
    "switchboard_callback_seconds",
    "Ingress time to answer a provider callback (s)",
    ["provider"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0),
)
DUPLICATES = Counter("switchboard_duplicate_callbacks_total", "Callbacks answered as duplicates", ["provider"])
DLQ_RECORDS = Counter("switchboard_dlq_records_total", "Records sent to a dead-letter topic", ["topic"])
DIAL_ATTEMPTS = Counter("switchboard_dial_attempts_total", "Dial attempts by outcome", ["provider", "outcome"])
DIAL_PACING_SECONDS = Histogram(
    "switchboard_dial_pacing_seconds",
    "Wait of a dial request for its pace slot and live-call leases (s)",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0),
)
CDRS_WRITTEN = Counter("switchboard_cdrs_written_total", "CDR rows committed by the cdr-sink")
LIVE_CALLS = Gauge(
    "switchboard_live_calls", "Outbound calls holding a live-call lease, by provider account", ["provider", "account"]
)
STATUS_CALLBACKS = Counter(
    "switchboard_status_callbacks_total", "Status callbacks POSTed by the notifier, by result", ["result"]
)


def exposition() -> bytes:
    """The process's metrics in the text exposition format (``CONTENT_TYPE_LATEST``)."""
    return generate_latest()
