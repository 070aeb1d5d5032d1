"""The call state as it is stored in Redis: every waiting state, and states stored before fields
were renamed."""

from __future__ import annotations

import pytest

from switchboard.events import CallEvent, CallEventType, Direction
from switchboard.flow.actions.base import EngineSettings, FetchAnswer
from switchboard.flow.document import build_flow
from switchboard.flow.interpreter import run
from switchboard.state import (
    CallState,
    WaitingForDequeue,
    WaitingForDial,
    WaitingForDigits,
    WaitingForRecording,
    WaitingForRedirect,
    WaitingForWebhook,
    WaitingInConference,
    WaitingInQueue,
)

S = EngineSettings(callback_url="https://sb.test/cb")


def state() -> CallState:
    return CallState(call_key="africastalking:w", provider="africastalking", direction=Direction.INBOUND)


def event(**kw) -> CallEvent:
    kind = CallEventType.INPUT_RECEIVED if kw else CallEventType.CALL_STARTED
    return CallEvent(
        type=kind,
        provider="africastalking",
        call_key="africastalking:w",
        session_id="w",
        direction=Direction.INBOUND,
        **kw,
    )


@pytest.mark.parametrize(
    ("action", "waiting"),
    [
        (
            {"type": "COLLECT", "name": "pin", "params": {"finish_on_key": "pound"}},
            WaitingForDigits(name="pin", finish_on_key="#"),
        ),
        ({"type": "RECORD"}, WaitingForRecording(name="record_1")),
        ({"type": "DIAL", "params": {"no": "+254700000010"}}, WaitingForDial()),
        ({"type": "TRANSFER", "params": {"no": "+254700000010"}}, WaitingForDial()),
        ({"type": "QUEUE", "params": {"name": "support"}}, WaitingInQueue()),
        ({"type": "DEQUEUE", "params": {"phone_number": "+254711000301"}}, WaitingForDequeue()),
        ({"type": "CONFERENCE", "params": {"name": "room"}}, WaitingInConference()),
        (
            {"type": "WEBHOOK", "params": {"url": "https://crm.test/x", "save_as": "crm"}},
            WaitingForWebhook(url="https://crm.test/x", save_as="crm"),
        ),
        (
            {"type": "REDIRECT", "params": {"url": "https://app.test/next"}},
            WaitingForRedirect(url="https://app.test/next"),
        ),
        ({"type": "REDIRECT", "params": {"flow": "other"}}, WaitingForRedirect(flow="other")),
    ],
)
def test_every_waiting_state_round_trips_through_json(action, waiting):
    flow = build_flow({"actions": [action, {"type": "HANGUP"}]}, name="w")
    t = run(flow, state(), event(), S)
    assert t.state.waiting == waiting
    stored = t.state.model_dump_json()
    assert f'"action":"{waiting.action}"' in stored
    assert CallState.model_validate_json(stored) == t.state


def test_a_reloaded_state_resumes_where_it_waited():
    flow = build_flow(
        {
            "actions": [
                {"type": "WEBHOOK", "params": {"url": "https://crm.test/x", "save_as": "crm"}},
                {"type": "COLLECT", "name": "pin", "params": {"finish_on_key": "#"}},
                {"type": "SAY", "params": {"text": "${webhook.crm.name} pressed ${keyPresses}"}},
            ]
        },
        name="r",
    )
    t = run(flow, state(), event(), S)
    t = run(
        flow,
        CallState.model_validate_json(t.state.model_dump_json()),
        None,
        S,
        answer=FetchAnswer(data={"name": "Amina"}),
    )
    t = run(flow, CallState.model_validate_json(t.state.model_dump_json()), event(digits="42#"), S)
    assert t.actions[0].text == "Amina pressed 42" and t.state.digits == "42" and t.state.collected == {"pin": "42"}


def test_a_state_stored_under_the_old_field_names_still_loads():
    stored = (
        '{"call_key": "africastalking:w", "provider": "africastalking", "direction": "inbound",'
        ' "flow_id": "ivr", "key_presses": "1", "step": 3,'
        ' "waiting": {"action": "COLLECT", "name": "menu", "finish_on_key": null}}'
    )
    loaded = CallState.model_validate_json(stored)
    assert (loaded.flow_ref, loaded.digits, loaded.reply_seq) == ("ivr", "1", 3)
    assert loaded.waiting == WaitingForDigits(name="menu")


def test_an_unknown_waiting_state_is_refused():
    with pytest.raises(ValueError, match="action"):
        CallState.model_validate(
            {"call_key": "k", "provider": "africastalking", "direction": "inbound", "waiting": {"action": "SMS"}}
        )
