"""The flow-runner's pure domain functions (STYLE §5)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from switchboard.events import CallEvent, CallEventType, CallStatus, Direction
from switchboard.flow.actions.base import EngineSettings
from switchboard.flow.repository import FlowRepository
from switchboard.providers.actions import Hangup, Say
from switchboard_flow_runner.domain import apply_event, new_inbound_state, session_ended

FLOWS = Path(__file__).resolve().parents[3] / "flows"


def event(kind: CallEventType, **kw) -> CallEvent:
    base = {
        "provider": "africastalking",
        "call_key": "africastalking:S1",
        "session_id": "S1",
        "direction": Direction.INBOUND,
        "caller_number": "+254700000001",
        "destination_number": "+254711000200",
    }
    return CallEvent(type=kind, **{**base, **kw})


def test_routes_pick_the_flow_by_dialled_number():
    repo = FlowRepository(FLOWS)
    assert repo.route("africastalking", "+254711000200") == "ivr"
    assert repo.route("africastalking", "+254711000100") == "survey"
    assert repo.route("africastalking", "+254799999999") == "ivr"  # default
    assert repo.get("survey") is not None and repo.get("nope") is None


def test_unknown_flow_gets_the_apology_not_silence():
    state = new_inbound_state(event(CallEventType.CALL_STARTED), "missing-flow")
    t = apply_event(state, event(CallEventType.CALL_STARTED), None, EngineSettings(error_message="Sorry."))
    assert t.ended and t.actions == [Say(text="Sorry."), Hangup()] and "missing-flow" in str(t.error)


def test_first_callback_pins_the_flow_version_and_answer_time():
    repo = FlowRepository(FLOWS)
    start = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
    e = event(CallEventType.CALL_STARTED, call_start_time=start)
    t = apply_event(new_inbound_state(e, "ivr"), e, repo.get("ivr"), EngineSettings())
    assert t.state.flow_version == repo.get("ivr").version and t.state.answered_at == start


def test_session_ended_carries_what_a_cdr_needs():
    repo = FlowRepository(FLOWS)
    e = event(CallEventType.CALL_STARTED, call_start_time=datetime(2026, 11, 21, 10, 0, tzinfo=UTC))
    state = apply_event(new_inbound_state(e, "ivr"), e, repo.get("ivr"), EngineSettings()).state
    state.collected["menu"] = "1"
    end = event(
        CallEventType.CALL_ENDED,
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
    s = session_ended(None, event(CallEventType.CALL_ENDED, hangup_cause="USER_BUSY", duration_s=0))
    assert s.status is CallStatus.BUSY and s.flow_id is None and s.inputs == {} and s.started_at is None


def test_runner_settings_reach_the_engine(monkeypatch):
    from switchboard_flow_runner.settings import FlowRunnerSettings

    monkeypatch.setenv("SB_ACTION_BUDGET", "7")
    monkeypatch.setenv("SB_WEBHOOK_TIMEOUT_MS", "900")
    engine = FlowRunnerSettings(callback_url="https://sb.test/cb").engine()
    assert (engine.action_budget, engine.webhook_timeout_ms, engine.callback_url) == (7, 900, "https://sb.test/cb")
    assert engine.foreach_cap == EngineSettings().foreach_cap  # untouched limits keep the engine's defaults
