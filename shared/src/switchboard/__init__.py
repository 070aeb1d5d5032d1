"""Switchboard shared library: events, settings, logging, Kafka/Redis helpers, the flow engine and
the provider adapters. A library only: no entry points (see ARCHITECTURE §9)."""
