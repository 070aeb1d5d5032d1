"""The pure functions of placing a call: a provider's answer → the DialAttempt (Africa's Talking's
``POST /call``, africastalking.md §2.1, and the shared builder every provider uses); an accepted
attempt → the call's first state. Inputs and outputs only."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from switchboard.errors import ProviderError
from switchboard.events import DialRequest, Direction
from switchboard.providers.africastalking.client import CallEntry, PlaceCallResult, attempt_from
from switchboard.providers.base import dial_attempt
from switchboard_dialer.placing import initial_state

CALLER_ID = "+254711000100"


def request(**overrides) -> DialRequest:
    return DialRequest(
        to="+254700000002",
        flow="survey",
        account="ke-ops",
        session_data={"firstName": "Amina"},
        campaign_id="survey-2024-05",
        requested_at=datetime(2024, 5, 6, 9, 0, tzinfo=UTC),
        **overrides,
    )


def answer(status: str, session_id: str | None, error: str | None = None) -> PlaceCallResult:
    body = {"entries": [{"phoneNumber": "+254700000002", "status": status, "sessionId": session_id or "None"}]}
    return PlaceCallResult(entries=[CallEntry("+254700000002", status, session_id)], error_message=error, raw=body)


def test_a_queued_call_is_an_accepted_attempt_keyed_by_the_provider_session():
    dial = request()
    attempt = attempt_from(dial, CALLER_ID, answer("Queued", "ATVId_1"))
    assert attempt.accepted and attempt.call_key == "africastalking:ATVId_1" and attempt.provider_status == "Queued"
    assert attempt.provider_response["entries"][0]["sessionId"] == "ATVId_1"
    # everything a CDR of a refused dial, or the first callback, needs comes from the request
    assert (attempt.request_id, attempt.call_id, attempt.account, attempt.to, attempt.caller_id) == (
        dial.request_id,
        dial.call_id,
        "ke-ops",
        dial.to,
        CALLER_ID,
    )
    assert (attempt.flow, attempt.campaign_id, attempt.session_data) == ("survey", "survey-2024-05", dial.session_data)
    assert (attempt.requested_at, attempt.provider) == (dial.requested_at, "africastalking")


@pytest.mark.parametrize(
    ("result", "error", "status"),
    [
        (answer("InvalidPhoneNumber", None), None, "InvalidPhoneNumber"),
        (answer("Queued", None), None, "Queued"),  # queued without a session: nothing to follow
        (PlaceCallResult(entries=[], error_message="Invalid callerId", raw={}), None, "Invalid callerId"),
        (PlaceCallResult(entries=[], error_message=None, raw={}), None, "NoEntry"),
        (None, ProviderError("unauthorised", status_code=401, body="bad key"), "Error401: unauthorised"),
    ],
)
def test_refusals_are_rejected_attempts_with_the_provider_status(result, error, status):
    attempt = attempt_from(request(), CALLER_ID, result, error)
    assert not attempt.accepted and attempt.call_key is None and attempt.provider_status == status


def test_a_refusal_without_a_result_keeps_the_provider_body():
    attempt = attempt_from(request(), CALLER_ID, None, ProviderError("x", status_code=500, body="<html>oops"))
    assert attempt.provider_response == {"error": "x", "body": "<html>oops"}


def test_a_long_error_is_cut_to_fit_the_status_column():
    attempt = attempt_from(request(), CALLER_ID, None, ProviderError("e" * 500, status_code=502))
    assert len(attempt.provider_status) == 200 and attempt.provider_status.startswith("Error502: eee")


def test_an_attempt_is_accepted_exactly_when_it_has_a_call_key():
    dial = request()
    taken = dial_attempt(dial, CALLER_ID, provider="voxology", call_key="voxology:c1", status="accepted", raw={})
    refused = dial_attempt(dial, CALLER_ID, provider="voxology", call_key=None, status="Error403: no", raw={})
    assert taken.accepted and not refused.accepted
    assert [taken.provider, refused.provider] == ["voxology", "voxology"]


def test_the_first_state_of_an_outbound_call():
    """AT reports an outbound call with callerNumber = the person called and destinationNumber =
    our number (africastalking.md §3); the state says the same, so the flow reads the same numbers."""
    dial = request()
    attempt = attempt_from(dial, CALLER_ID, answer("Queued", "ATVId_7"))
    state = initial_state(attempt, dial)
    assert (state.call_key, state.call_id, state.provider, state.account) == (
        "africastalking:ATVId_7",
        dial.call_id,
        "africastalking",
        "ke-ops",
    )
    assert state.direction is Direction.OUTBOUND and state.status == "dialing"
    assert (state.caller_number, state.destination_number) == (dial.to, CALLER_ID)
    assert (state.flow_ref, state.campaign_id, state.attempt) == ("survey", "survey-2024-05", 1)
    assert state.session_data == {"firstName": "Amina"}
    state.session_data["answer"] = "5"
    assert dial.session_data == {"firstName": "Amina"}  # a copy: the flow's writes stay in the state
    assert state.pc == [0] and state.applied_events == []  # the flow starts at its first action
