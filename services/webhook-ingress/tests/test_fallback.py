"""What the caller hears when the reply is late (ARCHITECTURE §4)."""

from __future__ import annotations

from xml.etree import ElementTree as ET

from switchboard.providers import PROVIDERS
from switchboard_ingress.settings import IngressSettings


def fallback_reply(url: str, settings: IngressSettings) -> tuple[bytes, str]:
    reply = PROVIDERS["africastalking"].fallback(url, settings.fallback_policy())
    return reply.body, reply.content_type


def tags(body: bytes) -> list[tuple[str, str | None]]:
    return [(el.tag, el.text) for el in ET.fromstring(body)]


def test_hold_and_redirect_counts_up_then_apologises():
    settings = IngressSettings(fallback_max_redirects=2)
    body, content_type = fallback_reply("http://sb.test/voice/instruct?step=3", settings)
    assert content_type == "application/xml"
    assert tags(body) == [("Say", "Please hold."), ("Redirect", "http://sb.test/voice/instruct?step=3&fallback=1")]
    body, _ = fallback_reply("http://sb.test/voice/instruct?step=3&fallback=1", settings)
    assert tags(body)[1] == ("Redirect", "http://sb.test/voice/instruct?step=3&fallback=2")
    body, _ = fallback_reply("http://sb.test/voice/instruct?step=3&fallback=2", settings)
    assert tags(body) == [("Say", settings.apology_message)]


def test_hangup_mode_apologises_at_once():
    body, _ = fallback_reply("http://sb.test/voice/instruct", IngressSettings(fallback_mode="hangup"))
    assert tags(body) == [("Say", IngressSettings().apology_message)]


def test_a_tampered_fallback_counter_gets_the_apology_not_a_500():
    body, _ = fallback_reply("http://sb.test/voice/instruct?fallback=true", IngressSettings())
    assert tags(body) == [("Say", IngressSettings().apology_message)]
