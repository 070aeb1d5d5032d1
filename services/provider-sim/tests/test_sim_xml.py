"""The simulator reads AT XML as the gateway would (africastalking.md §4, §8)."""

from __future__ import annotations

import pytest

from switchboard_provider_sim.africastalking.xml import BadResponse, parse_response


def test_ringback_casings_prefer_lowercase_b():
    (dial,) = parse_response(b'<Response><Dial phoneNumbers="+1" ringBackTone="a.mp3"/></Response>')
    assert dial["attrs"]["ringbackTone"] == "a.mp3"
    (dial,) = parse_response(b'<Response><Dial phoneNumbers="+1" ringBackTone="a" ringbackTone="b"/></Response>')
    assert dial["attrs"]["ringbackTone"] == "b"


@pytest.mark.parametrize(
    "body",
    [
        b"not xml",
        b"<Reply/>",
        b"<Response><Shout/></Response>",
        b"<Response><GetDigits><Say>a</Say><Play url='x'/></GetDigits></Response>",
        b"<Response><Play/></Response>",
        b'<!DOCTYPE x [<!ENTITY a "aaaa">]><Response><Say>&a;</Say></Response>',
    ],
)
def test_bad_responses_are_refused(body):
    with pytest.raises(BadResponse):
        parse_response(body)


def test_reject_may_follow_other_elements():
    # spec §4, §8: AT's own example app answers <Say>Your balance is …</Say><Reject/>
    actions = parse_response(b"<Response><Say>Your balance is 12.</Say><Reject/></Response>")
    assert [a["tag"] for a in actions] == ["Say", "Reject"]


@pytest.mark.parametrize("tag", ["GetDigits", "Record"])
def test_callback_url_casings_prefer_lowercase_b(tag):
    # spec §8: AT's Python action builder writes callBackUrl, the docs callbackUrl
    (el,) = parse_response(f'<Response><{tag} callBackUrl="https://a.test/x"><Say>go</Say></{tag}></Response>'.encode())
    assert el["attrs"]["callbackUrl"] == "https://a.test/x"
    both = f'<{tag} callBackUrl="https://a.test/old" callbackUrl="https://a.test/new"><Say>go</Say></{tag}>'
    (el,) = parse_response(f"<Response>{both}</Response>".encode())
    assert el["attrs"]["callbackUrl"] == "https://a.test/new"


def test_prompt_and_text():
    (gd, say) = parse_response(
        b'<Response><GetDigits numDigits="1"><Say>Press &amp; go</Say></GetDigits><Say>bye</Say></Response>'
    )
    assert gd["children"][0]["text"] == "Press & go" and say["text"] == "bye"
