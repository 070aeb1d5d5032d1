"""Provider adapters (ARCHITECTURE §6): one package per provider, the same small surface each.

:func:`capabilities_for` gives a provider's capability table, which flow validation uses to
refuse actions the provider cannot carry out before any call runs.
"""

from __future__ import annotations

from collections.abc import Sequence

from switchboard.providers.actions import ProviderAction
from switchboard.providers.capabilities import Capabilities


def capabilities_for(provider: str) -> Capabilities:
    """The capability table of ``provider``. Raises ``KeyError`` for an unknown provider."""
    from switchboard.providers.africastalking.capabilities import CAPABILITIES as AT
    from switchboard.providers.voxology.capabilities import CAPABILITIES as VOX

    tables = {AT.provider: AT, VOX.provider: VOX}
    if provider not in tables:
        raise KeyError(f"unknown provider {provider!r}; known: {', '.join(sorted(tables))}")
    return tables[provider]


def render_for(provider: str, actions: Sequence[ProviderAction], *, step: int = 0) -> tuple[bytes, str]:
    """Render ``actions`` in ``provider``'s reply language: ``(body, content_type)``.
    Raises :class:`~switchboard.errors.FlowError` for an action the provider cannot carry out."""
    if provider == "voxology":
        from switchboard.providers.voxology.render import render as vox_render

        return vox_render(actions, step=step)
    from switchboard.providers.africastalking.render import render as at_render

    return at_render(actions)


def uses_callback_urls(provider: str) -> bool:
    """Whether replies name the URL the provider calls back (Africa's Talking) or the provider
    calls its configured URL by itself when a list runs out (Voxology)."""
    return provider == "africastalking"


def known_providers() -> list[str]:
    return ["africastalking", "voxology"]
