"""Provider adapters (ARCHITECTURE §6): one package per provider, the same small surface each.

:func:`capabilities_for` gives a provider's capability table, which flow validation uses to
refuse actions the provider cannot carry out before any call runs.
"""

from __future__ import annotations

from switchboard.providers.capabilities import Capabilities


def capabilities_for(provider: str) -> Capabilities:
    """The capability table of ``provider``. Raises ``KeyError`` for an unknown provider."""
    from switchboard.providers.africastalking.capabilities import CAPABILITIES as AT

    tables = {AT.provider: AT}
    if provider not in tables:
        raise KeyError(f"unknown provider {provider!r}; known: {', '.join(sorted(tables))}")
    return tables[provider]


def known_providers() -> list[str]:
    return ["africastalking"]
