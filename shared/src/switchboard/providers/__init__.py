"""Provider adapters (ARCHITECTURE §6): one package per provider, the same small surface each.

:func:`capabilities_for` gives a provider's capability table, which flow validation uses to
refuse actions the provider cannot carry out before any call runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from switchboard.providers.actions import ProviderAction
from switchboard.providers.capabilities import Capabilities

ProviderName = Literal["africastalking", "voxology", "telesign"]
"""The providers Switchboard has adapters for."""


def capabilities_for(provider: str) -> Capabilities:
    """The capability table of ``provider``. Raises ``KeyError`` for an unknown provider."""
    from switchboard.providers.africastalking.capabilities import CAPABILITIES as AT
    from switchboard.providers.telesign.capabilities import CAPABILITIES as TS
    from switchboard.providers.voxology.capabilities import CAPABILITIES as VOX

    tables = {AT.provider: AT, VOX.provider: VOX, TS.provider: TS}
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


def render_replies(
    provider: str, actions: Sequence[ProviderAction], *, step: int = 0, caller_id: str | None = None
) -> list[tuple[bytes, str]]:
    """The replies for one batch: a single reply for providers that run a batch per reply, one
    reply per action for Telesign (answer with the first, keep the rest pending). ``caller_id`` is
    what Telesign must present on a bridge (the ``from`` of the incoming call)."""
    if provider == "telesign":
        from switchboard.providers.telesign.render import CONTENT_TYPE, render_batch

        return [(body, CONTENT_TYPE) for body in render_batch(actions, caller_id=caller_id)]
    return [render_for(provider, actions, step=step)]


def uses_callback_urls(provider: str) -> bool:
    """Whether replies name the URL the provider calls back (Africa's Talking) or the provider
    calls its configured URL by itself when a list runs out (Voxology)."""
    return provider == "africastalking"


def known_providers() -> list[str]:
    return ["africastalking", "voxology", "telesign"]
