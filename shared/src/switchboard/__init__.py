"""Switchboard shared library: events, settings, logging, Kafka/Redis helpers, the flow engine and
the provider adapters. A library only: no entry points (see ARCHITECTURE §9)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("switchboard-shared")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
