"""The flow-runner's pure domain functions (STYLE §5)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from switchboard.events import CallEventType, CallStatus, SessionEnded, encode
from switchboard.flow.actions.base import EngineSettings
from switchboard.flow.repository import FlowRepository
from switchboard.providers.actions import Hangup, Say
from switchboard.providers.africastalking import parse_callback
from switchboard.testing import event
from switchboard_flow_runner.domain import apply_event, new_inbound_state, session_ended

FLOWS = Path(__file__).resolve().parents[3] / "flows"


def test_routes_pick_the_flow_by_dialled_number():
    repo = FlowRepository(FLOWS)
    assert repo.route("africastalking", "+254711000200") == "ivr"
    assert repo.route("africastalking", "+254711000100") == "survey"
    assert repo.route("africastalking", "+254799999999") == "ivr"  # default
    assert repo.get("survey") is not None and repo.get("nope") is None


def test_unknown_flow_gets_the_apology_not_silence():
    state = new_inbound_state(event(kind=CallEventType.CALL_STARTED), "missing-flow")
    t = apply_event(state, event(kind=CallEventType.CALL_STARTED), None, EngineSettings(error_message="Sorry."))
    assert t.ended and t.actions == [Say(text="Sorry."), Hangup()] and "missing-flow" in str(t.error)


def test_first_callback_pins_the_flow_version_and_answer_time():
    repo = FlowRepository(FLOWS)
    start = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
    e = event(kind=CallEventType.CALL_STARTED, call_start_time=start)
    t = apply_event(new_inbound_state(e, "ivr"), e, repo.get("ivr"), EngineSettings())
    assert t.state.flow_version == repo.get("ivr").version and t.state.answered_at == start


def test_session_ended_carries_what_a_cdr_needs():
    repo = FlowRepository(FLOWS)
    e = event(kind=CallEventType.CALL_STARTED, call_start_time=datetime(2026, 11, 21, 10, 0, tzinfo=UTC))
    state = apply_event(new_inbound_state(e, "ivr"), e, repo.get("ivr"), EngineSettings()).state
    state.collected["menu"] = "1"
    end = event(
        kind=CallEventType.CALL_ENDED,
        hangup_cause="NORMAL_CLEARING",
        duration_s=31,
        cost=Decimal("0.775"),
        currency="KES",
        call_start_time=datetime(2026, 11, 21, 10, 0, tzinfo=UTC),
        recording_url="https://r.test/x.mp3",
    )
    s = session_ended(state, end)
    assert (s.status, s.hangup_cause, s.duration_s, s.cost, s.currency) == (
        CallStatus.COMPLETED,
        "NORMAL_CLEARING",
        31,
        Decimal("0.775"),
        "KES",
    )
    assert s.inputs == {"menu": "1"} and s.flow_id == "ivr" and s.recordings == ["https://r.test/x.mp3"]
    assert s.started_at == datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


def test_session_ended_without_state():
    s = session_ended(None, event(kind=CallEventType.CALL_ENDED, hangup_cause="USER_BUSY", duration_s=0))
    assert s.status is CallStatus.BUSY and s.flow_id is None and s.inputs == {} and s.started_at is None


def test_runner_settings_reach_the_engine(monkeypatch):
    from switchboard_flow_runner.settings import FlowRunnerSettings

    monkeypatch.setenv("SB_ACTION_BUDGET", "7")
    monkeypatch.setenv("SB_WEBHOOK_TIMEOUT_MS", "900")
    engine = FlowRunnerSettings(callback_url="https://sb.test/cb").engine()
    assert (engine.action_budget, engine.webhook_timeout_ms, engine.callback_url) == (7, 900, "https://sb.test/cb")
    assert engine.foreach_cap == EngineSettings().foreach_cap  # untouched limits keep the engine's defaults


def test_a_turn_renders_the_reply_through_the_provider_and_marks_the_event_applied():
    from switchboard_flow_runner.domain import take_turn

    flow = FlowRepository(FLOWS).get("ivr")
    start = event(kind=CallEventType.CALL_STARTED)
    turn = take_turn(new_inbound_state(start, "ivr"), start, flow, EngineSettings())
    assert turn.reply.content_type == "application/xml" and b"<GetDigits" in turn.reply.body
    assert start.event_id in turn.state.applied_events and turn.outgoing == [] and turn.fetch is None


def test_a_one_action_provider_gets_one_reply_per_turn_and_keeps_the_rest_pending():
    from switchboard_flow_runner.domain import take_turn

    flow = FlowRepository(FLOWS).get("ivr")
    start = event(kind=CallEventType.CALL_STARTED, provider="telesign", call_key="telesign:S1")
    state = new_inbound_state(start, "ivr")
    turn = take_turn(state, start, flow, EngineSettings())
    assert b'"speak"' in turn.reply.body and len(turn.state.pending_replies) >= 1
    pending = list(turn.state.pending_replies)
    done = event(kind=CallEventType.CALL_PROGRESS, provider="telesign", call_key="telesign:S1")
    after = take_turn(turn.state, done, flow, EngineSettings())
    assert after.reply.body == pending[0].split("\n", 1)[1].encode()
    assert after.state.pending_replies == pending[1:] and done.event_id in after.state.applied_events


def test_an_action_the_provider_lacks_ends_with_the_apology_and_a_flow_error():
    from switchboard.flow.document import build_flow
    from switchboard_flow_runner.domain import take_turn

    flow = build_flow({"actions": [{"type": "PAUSE", "params": {"length": 1}}]}, name="p", check=False)
    start = event(kind=CallEventType.CALL_STARTED)
    turn = take_turn(new_inbound_state(start, "p"), start, flow, EngineSettings(error_message="Sorry."))
    assert b"Sorry." in turn.reply.body and turn.state.flow_error


def test_final_notification_with_out_of_bounds_fields_still_makes_a_cdr():
    """A final AT notification with a 100-character cause, a 12-character currency, a
    cost of 1e20 and a duration of 2^40 still ends the call; the CDR has them null and kept raw."""
    final = parse_callback(
        {
            "isActive": "0",
            "sessionId": "S1",
            "direction": "Inbound",
            "callerNumber": "+254700000001",
            "destinationNumber": "+254711000200",
            "callStartTime": "2024-05-06+09:30:00",
            "hangupCause": "X" * 100,
            "currencyCode": "KESKESKESKES",
            "amount": "1e20",
            "durationInSeconds": str(2**40),
        }
    )
    state = new_inbound_state(event(kind=CallEventType.CALL_STARTED), "ivr")
    cdr = session_ended(state, final)
    assert (cdr.hangup_cause_raw, cdr.currency, cdr.cost, cdr.duration_s) == (None, None, None, 0)
    assert cdr.raw_invalid == {
        "hangupCause": "X" * 100,
        "currencyCode": "KESKESKESKES",
        "amount": "1e20",
        "durationInSeconds": str(2**40),
    }
    assert SessionEnded.model_validate_json(encode(cdr)) == cdr
