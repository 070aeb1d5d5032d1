"""What a caller hears when the flow-runner's reply is late or the pipeline is down (ARCHITECTURE
§4): never silence, never an empty body, never a 500."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from switchboard.providers.actions import Hangup, ProviderAction, Redirect, Say
from switchboard.providers.africastalking import render
from switchboard_ingress.settings import IngressSettings


def fallback_reply(url: str, settings: IngressSettings) -> tuple[bytes, str]:
    """The Africa's Talking XML of :func:`fallback_actions`."""
    return render(fallback_actions(url, settings))


def fallback_actions(url: str, settings: IngressSettings) -> list[ProviderAction]:
    """A hold prompt and a redirect back to ``url`` (counted in its ``fallback`` query param), or,
    after ``fallback_max_redirects`` or in ``hangup`` mode, the apology and the end of the call."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    count = int(query.get("fallback", "0") or 0)
    actions: list[ProviderAction]
    if settings.fallback_mode == "redirect" and count < settings.fallback_max_redirects:
        query["fallback"] = str(count + 1)
        again = urlunsplit(parts._replace(query=urlencode(query)))
        actions = [Say(text=settings.hold_message), Redirect(url=again)]
    else:
        actions = [Say(text=settings.apology_message), Hangup()]
    return actions
