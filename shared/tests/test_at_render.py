"""Africa's Talking XML rendering (africastalking.md §4): every element and attribute, escaping."""

from __future__ import annotations

from xml.etree import ElementTree as ET

import pytest

from switchboard.providers.actions import (
    Dequeue,
    Dial,
    Enqueue,
    GetDigits,
    Hangup,
    Play,
    Record,
    Redirect,
    Reject,
    Say,
)
from switchboard.providers.africastalking import CONTENT_TYPE, render


def xml(actions) -> ET.Element:
    body, content_type = render(actions)
    assert content_type == CONTENT_TYPE
    assert body.startswith(b'<?xml version="1.0" encoding="UTF-8"?><Response')
    return ET.fromstring(body)


def test_say_with_attributes():
    root = xml([Say(text="Hello", voice="man", play_beep=True)])
    (say,) = root
    assert say.tag == "Say" and say.text == "Hello" and say.attrib == {"voice": "man", "playBeep": "true"}


@pytest.mark.parametrize("text", ["Tom & Jerry <says> \"hi\" 'there'", "a < b && c > d", "50% off; ]]> end"])
def test_spoken_text_is_escaped_and_survives(text):
    body, _ = render([Say(text=text)])
    assert b"<says>" not in body and b" & " not in body
    assert ET.fromstring(body)[0].text == text


def test_attribute_values_are_escaped():
    url = 'https://x.test/a?b=1&c="2"<'
    root = xml([Play(url=url)])
    assert root[0].get("url") == url
    assert b"&amp;c=&quot;2&quot;&lt;" in render([Play(url=url)])[0]


def test_get_digits_with_prompt_and_all_attributes():
    root = xml(
        [
            GetDigits(
                prompt=Say(text="Press 1"),
                num_digits=1,
                timeout_s=15,
                finish_on_key="#",
                callback_url="https://cb.test/d",
            )
        ]
    )
    gd = root[0]
    assert gd.attrib == {"numDigits": "1", "timeout": "15", "finishOnKey": "#", "callbackUrl": "https://cb.test/d"}
    assert gd[0].tag == "Say" and gd[0].text == "Press 1"


def test_get_digits_with_play_prompt():
    gd = xml([GetDigits(prompt=Play(url="https://m.test/p.mp3"))])[0]
    assert gd[0].tag == "Play" and gd[0].get("url") == "https://m.test/p.mp3" and gd.attrib == {}


def test_record_partial_and_terminal():
    root = xml(
        [
            Record(
                prompt=Say(text="Speak"),
                finish_on_key="#",
                max_length_s=10,
                timeout_s=5,
                trim_silence=True,
                play_beep=True,
                callback_url="https://cb.test/r",
            ),
            Record(terminal=True),
        ]
    )
    partial, terminal = root
    assert partial.attrib == {
        "finishOnKey": "#",
        "maxLength": "10",
        "timeout": "5",
        "trimSilence": "true",
        "playBeep": "true",
        "callbackUrl": "https://cb.test/r",
    }
    assert partial[0].text == "Speak"
    assert terminal.attrib == {} and len(terminal) == 0


def test_dial_all_attributes_and_ringback_casing():
    dial = xml(
        [
            Dial(
                numbers=["+254700000010", "agent1@ke.sip.africastalking.com"],
                record=True,
                sequential=True,
                caller_id="+254700000099",
                ringback_url="https://m.test/ring.mp3",
                max_duration_s=60,
            )
        ]
    )[0]
    assert dial.attrib == {
        "phoneNumbers": "+254700000010,agent1@ke.sip.africastalking.com",
        "record": "true",
        "sequential": "true",
        "callerId": "+254700000099",
        "ringbackTone": "https://m.test/ring.mp3",
        "maxDuration": "60",
    }
    assert "holdMusic" not in dial.attrib


def test_queue_elements_redirect_and_reject():
    root = xml(
        [
            Enqueue(name="support", hold_music_url="https://m.test/hold.mp3"),
            Dequeue(phone_number="+254700000099", name="support"),
            Redirect(url="https://cb.test/next"),
        ]
    )
    assert [el.tag for el in root] == ["Enqueue", "Dequeue", "Redirect"]
    assert root[0].attrib == {"name": "support", "holdMusic": "https://m.test/hold.mp3"}
    assert root[1].attrib == {"phoneNumber": "+254700000099", "name": "support"}
    assert root[2].text == "https://cb.test/next"
    assert [el.tag for el in xml([Reject()])] == ["Reject"]


def test_say_then_reject_is_rendered_as_at_s_example_app_does():
    # africastalking.md §4, §8: AT's own example answers <Say>Your balance is …</Say><Reject/>
    root = xml([Say(text="Your balance is 120 shillings."), Reject(), Say(text="never heard")])
    assert [(el.tag, el.text) for el in root] == [("Say", "Your balance is 120 shillings."), ("Reject", None)]


def test_hangup_ends_the_response():
    root = xml([Say(text="bye"), Hangup(), Say(text="never heard")])
    assert [el.text for el in root] == ["bye"]
