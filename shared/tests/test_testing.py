"""The shared test builders and readers (switchboard.testing) read what each dialect really says."""

from __future__ import annotations

import pytest

from switchboard.events import CallEventType
from switchboard.providers.actions import GetDigits, Hangup, Say
from switchboard.providers.africastalking import render as render_at
from switchboard.providers.telesign.render import render_batch
from switchboard.providers.voxology.render import render as render_vox
from switchboard.testing import event, said_in_reply, said_in_telesign, says, spoken, state

ACTIONS = [Say(text="Welcome."), GetDigits(prompt=Say(text="Press 1 & go."), num_digits=1), Hangup()]
HEARD = ["Welcome.", "Press 1 & go."]


def test_spoken_reads_says_and_prompts():
    assert spoken(ACTIONS) == HEARD


@pytest.mark.parametrize("render", [render_at, render_vox], ids=["africastalking", "voxology"])
def test_said_in_a_rendered_reply(render):
    body, content_type = render(ACTIONS)
    assert said_in_reply(body, content_type) == HEARD


def test_said_in_telesign_actions():
    bodies = render_batch(ACTIONS[:2])
    assert said_in_telesign(bodies) == HEARD and said_in_reply(bodies[1]) == ["Press 1 & go."]


def test_says_reads_a_simulator_transcript():
    call = {
        "transcript": [{"kind": "say", "text": "Hi"}, {"kind": "dtmf", "digits": "1"}, {"kind": "say", "text": "Bye"}]
    }
    assert says(call) == ["Hi", "Bye"]


def test_state_and_event_are_the_same_call():
    assert state().call_key == event().call_key == "africastalking:S1"
    moved = event("4", session_id="X9", provider="voxology")
    assert (moved.call_key, moved.session_id, moved.type) == ("voxology:X9", "X9", CallEventType.INPUT_RECEIVED)
