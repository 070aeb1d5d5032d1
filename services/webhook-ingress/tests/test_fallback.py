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


def test_later_holds_play_the_hold_audio_instead_of_repeating_the_prompt():
    settings = IngressSettings(fallback_max_redirects=3, hold_audio_url="https://media.example.com/hold.mp3")
    body, _ = fallback_reply("http://sb.test/voice/instruct", settings)
    assert tags(body)[0] == ("Say", "Please hold.")
    body, _ = fallback_reply("http://sb.test/voice/instruct?fallback=1", settings)
    root = ET.fromstring(body)
    assert [el.tag for el in root] == ["Play", "Redirect"] and root[0].get(
        "url"
    ) == "https://media.example.com/hold.mp3"


def test_the_redirects_follow_from_the_maximum_hold_and_the_reply_timeout():
    assert IngressSettings(reply_timeout_s=3, fallback_max_hold_s=20).max_redirects == 6  # 7 rounds of 3 s
    assert IngressSettings(reply_timeout_s=1.5, fallback_max_hold_s=12).max_redirects == 7
    assert IngressSettings(fallback_max_redirects=2, fallback_max_hold_s=60).max_redirects == 2


def test_the_hold_tone_is_a_short_quiet_wav():
    import io
    import wave

    from switchboard_ingress.hold import hold_audio_url_for, hold_tone

    with wave.open(io.BytesIO(hold_tone()), "rb") as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 8000)
        assert w.getnframes() == 4 * 8000
    assert hold_audio_url_for("https://cb.example.com/providers/africastalking/t/x/callback?fallback=1") == (
        "https://cb.example.com/providers/media/hold.wav"
    )
