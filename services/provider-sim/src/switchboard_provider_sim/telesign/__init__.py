"""Telesign simulator (``telesign.md``): ``POST /v2/voice`` and signed JSON-RPC events."""
