"""Provider adapters (ARCHITECTURE §6): one package per provider, one registry.

:data:`PROVIDERS` maps each provider's name to its :class:`~switchboard.providers.base.Provider`;
every service reads provider knowledge from there and nowhere else. Adding a provider is a
package under ``providers/`` exporting ``PROVIDER``, a simulator package and one line below
(``docs/adding-a-provider.md``).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, WithJsonSchema

from switchboard.providers import africastalking, infobip, telesign, voxology
from switchboard.providers.base import Provider, ProviderRegistry

PROVIDERS = ProviderRegistry(
    {p.name: p for p in (africastalking.PROVIDER, voxology.PROVIDER, telesign.PROVIDER, infobip.PROVIDER)}
)
"""Every provider Switchboard has an adapter for, by name."""


def _known(name: str) -> str:
    if name not in PROVIDERS:
        raise ValueError(f"unknown provider {name!r}; known: {', '.join(PROVIDERS)}")
    return name


ProviderName = Annotated[
    str,
    AfterValidator(_known),
    WithJsonSchema({"type": "string", "enum": list(PROVIDERS), "description": "a provider in the registry"}),
]
"""A provider name in a request model: validated against :data:`PROVIDERS`."""

__all__ = ["PROVIDERS", "Provider", "ProviderName"]
