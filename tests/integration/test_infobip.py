"""Infobip on the stack (issue 15): calls placed as one voice message on the Infobip simulator,
their delivery reports pushed to the ingress or pulled, and the CDRs they give, compared with the
same flows on the other three providers."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import orjson
import pytest

from switchboard.kafka import make_broker
from switchboard.providers import PROVIDERS
from switchboard.providers.base import Account
from switchboard.providers.infobip.reports import sign
from switchboard.redis import awaiting_report_key, make_redis, pulled_reports_key
from switchboard.replies import ReplyListener
from switchboard.topics import Topic
from switchboard_devstack.stack import IB_SIM_KEY
from switchboard_ingress.callbacks import CallbackHandler
from switchboard_ingress.polling import ReportPoller
from switchboard_ingress.settings import IngressSettings

from .helpers import auth, read_topic, says, sim_call, wait_cdr, wait_for

pytestmark = pytest.mark.integration
SESSION_DATA = {"code": "4721", "company": "Acme Water", "notice": "Supply is off on Friday from 9 to 12."}


def number() -> str:
    return f"+2547{uuid.uuid4().int % 10**8:08d}"


def inputs(row: dict) -> dict:
    value = row["inputs"]
    return orjson.loads(value) if isinstance(value, str) else value


async def place(stack, http, provider: str, flow: str, *, digits=None, answer="answer", account="default"):  # type: ignore[no-untyped-def]
    phone = number()
    await http.put(f"{stack.config.sim_url}/sim/phones/{phone}", json={"answer": answer, "digits": digits or []})
    r = await http.post(
        f"{stack.config.api_url}/v1/calls",
        headers=auth(stack),
        json={"to": phone, "flow": flow, "provider": provider, "account": account, "session_data": SESSION_DATA},
    )
    assert r.status_code == 200, r.text
    return r.json()["call_key"]


@pytest.mark.parametrize("flow", ["blast", "otp-message", "survey-message"])
async def test_message_flows_are_the_same_on_every_provider(stack, http, flow):
    """Issue 15, parity: the same heard text, inputs and CDR class on Infobip as on the others."""
    results = {}
    for provider in PROVIDERS:
        call_key = await place(stack, http, provider, flow, digits=["4"])
        call = await sim_call(http, stack, call_key.split(":", 1)[1])
        results[provider] = (call, await wait_cdr(stack, call_key))
    at_call, at_row = results["africastalking"]
    for provider, (call, row) in results.items():
        assert call["errors"] == [], (provider, call["errors"])
        assert " ".join(says(call)) == " ".join(says(at_call)), provider  # Infobip speaks it as one text
        assert inputs(row) == inputs(at_row), provider
        assert (row["status"], row["hangup_cause"]) == ("completed", "NORMAL_CLEARING"), provider
    assert inputs(at_row) == {"blast": {}, "otp-message": {"repeat": "4"}, "survey-message": {"rating": "4"}}[flow]
    infobip = results["infobip"][1]
    assert infobip["currency"] == "EUR" and float(infobip["cost"]) > 0 and infobip["duration_s"] > 0


async def test_press_one_to_hear_the_code_again_on_every_provider(stack, http):
    """The OTP's repeat is Infobip's repeatDtmf: the caller hears the code twice on every provider."""
    heard, rows = {}, {}
    for provider in PROVIDERS:
        call_key = await place(stack, http, provider, "otp-message", digits=["1", "5"])
        heard[provider] = " ".join(says(await sim_call(http, stack, call_key.split(":", 1)[1])))
        rows[provider] = await wait_cdr(stack, call_key)
    assert heard["africastalking"].count("4, 7, 2, 1. Again: 4, 7, 2, 1.") == 2
    for provider in PROVIDERS:
        assert heard[provider] == heard["africastalking"], provider
        assert inputs(rows[provider]) == {"repeat": "5"} and rows[provider]["status"] == "completed", provider


@pytest.mark.parametrize(("answer", "status"), [("busy", "busy"), ("no-answer", "no-answer")])
async def test_unanswered_messages_classify_as_on_the_others(stack, http, answer, status):
    call_key = await place(stack, http, "infobip", "survey-message", answer=answer)
    row = await wait_cdr(stack, call_key)
    assert (row["status"], row["duration_s"], inputs(row)) == (status, 0, {})


@pytest.mark.parametrize(("flow", "pointer"), [("survey", "/actions/4"), ("otp", "/actions/7")])
async def test_flows_that_need_a_live_call_are_refused_before_the_call(stack, http, flow, pointer):
    r = await http.post(
        f"{stack.config.api_url}/v1/calls",
        headers=auth(stack),
        json={"to": number(), "flow": flow, "provider": "infobip"},
    )
    assert r.status_code == 422 and r.json()["field"] == "flow"
    assert any(p["pointer"] == pointer and "Infobip" in p["message"] for p in r.json()["problems"]), r.json()


async def test_a_report_pushed_twice_is_one_event_and_a_forged_one_is_refused(stack, http):
    message_id = f"dup-{uuid.uuid4().hex[:12]}"
    report = {
        "messageId": message_id,
        "to": "254700000001",
        "from": "15550000700",
        "callbackData": sign(IB_SIM_KEY, "default", message_id, message_id),
        "voiceCall": {"answerTime": "2026-12-05T09:30:07.000+0000", "duration": 5, "dtmfCodes": ""},
        "status": {"groupId": 3, "groupName": "DELIVERED", "id": 5, "name": "DELIVERED_TO_HANDSET"},
        "error": {"groupId": 0, "groupName": "OK", "id": 10000, "name": "NORMAL_HANGUP"},
    }
    for _ in range(2):
        r = await http.post(stack.config.ib_reports_url, json={"results": [report]})
        assert r.status_code == 200, r.text
    events = await read_topic(stack, Topic.CALL_EVENTS.value, key=f"infobip:{message_id}".encode())
    assert len(events) == 1
    forged = {**report, "callbackData": report["callbackData"][:-4] + "AAAA"}
    r = await http.post(stack.config.ib_reports_url, json={"results": [forged]})
    assert r.status_code == 401
    r = await http.post(stack.config.ib_reports_url, json={"results": [{"to": "1"}]})
    assert r.status_code == 400 and r.json()["field"] == "messageId"


@pytest.fixture
async def poller(stack, monkeypatch):  # type: ignore[no-untyped-def]
    """The ingress's report poller, run in the test (the stack's own polls once an hour), for the
    account whose reports are pulled (no notifyUrl)."""
    for name, value in stack.config.service_env().items():
        monkeypatch.setenv(name, value)
    settings = IngressSettings()
    broker = make_broker(settings, client_id="test-report-poller")
    await broker.start()
    redis = make_redis(settings)
    from switchboard.accounts import ProviderClients

    account = Account(
        provider="infobip", name="pull", base_url=stack.config.sim_url, api_key=IB_SIM_KEY, from_number="+15550000701"
    )
    clients = ProviderClients({("infobip", "pull"): account})
    handler = CallbackHandler(settings, broker, redis, clients, ReplyListener(redis))
    yield ReportPoller(handler, redis, clients, poll_s=3600, overdue_s=0), redis
    await clients.aclose()
    await redis.aclose()
    await broker.stop()


async def test_pulled_reports_reach_the_cdr_once(stack, http, poller):
    report_poller, _ = poller
    call_key = await place(stack, http, "infobip", "survey-message", digits=["5"], account="pull")
    await sim_call(http, stack, call_key.split(":", 1)[1])  # the call is over: its report waits for a pull

    async def pulled():  # type: ignore[no-untyped-def]
        return await report_poller.pull() or None

    await wait_for(pulled, 20)
    row = await wait_cdr(stack, call_key)
    assert inputs(row) == {"rating": "5"} and row["status"] == "completed"
    assert await report_poller.pull() == 0  # each report is served once


async def test_a_poller_killed_between_the_pull_and_the_write_loses_no_report(stack, http, poller):
    """Issue 15: the poller pulls (the report is gone from Infobip), journals it, and dies before
    recording it; the next poller records it from the journal, keys pressed included."""
    report_poller, redis = poller
    call_key = await place(stack, http, "infobip", "survey-message", digits=["2"], account="pull")
    await sim_call(http, stack, call_key.split(":", 1)[1])

    class Killed(BaseException):
        pass

    async def killed(provider, parsed):  # type: ignore[no-untyped-def]
        raise Killed

    record, report_poller.handler.record = report_poller.handler.record, killed

    async def pulled_then_killed():  # type: ignore[no-untyped-def]
        try:
            await report_poller.pull()
        except Killed:
            return True
        return None

    await wait_for(pulled_then_killed, 20)
    assert await redis.llen(pulled_reports_key("infobip")) >= 1  # journaled, not recorded
    report_poller.handler.record = record  # the restarted poller
    assert await report_poller.pull() >= 1
    row = await wait_cdr(stack, call_key)
    assert inputs(row) == {"rating": "2"} and row["status"] == "completed"
    assert await redis.llen(pulled_reports_key("infobip")) == 0


async def test_a_report_pulled_by_a_poller_that_died_is_recovered_from_the_logs(stack, http, poller):
    """A poller killed before even its journal write (the report only in its memory): the report
    is taken from the simulator and never kept, as such a poller would leave it; the call stays
    awaited, and the next poller's reconcile finds its outcome in the logs (48 h, not fetch-once).
    The logs carry no DTMF: the CDR's inputs are empty, its class is right."""
    report_poller, redis = poller
    call_key = await place(stack, http, "infobip", "survey-message", digits=["3"], account="pull")
    message_id = call_key.split(":", 1)[1]
    await sim_call(http, stack, message_id)
    r = await http.get(
        f"{stack.config.sim_url}/voice/1/reports",
        params={"messageId": message_id},
        headers={"Authorization": f"App {IB_SIM_KEY}"},
    )
    assert [x["messageId"] for x in r.json()["results"]] == [message_id]  # pulled ... and lost
    assert await redis.zscore(awaiting_report_key("infobip"), call_key) is not None
    assert await report_poller.pull() == 0
    assert await report_poller.reconcile() >= 1
    row = await wait_cdr(stack, call_key)
    assert (row["status"], row["hangup_cause"]) == ("completed", "NORMAL_CLEARING") and inputs(row) == {}

    async def released():  # type: ignore[no-untyped-def]
        return await redis.zscore(awaiting_report_key("infobip"), call_key) is None or None

    await wait_for(released, 10)  # the runner took it off the awaited set with the end


async def test_an_answering_machine_is_detected_and_classed_for_campaign_retries(stack, http):
    """A flow for providers with detection only (DETECT) lives in the flows folder beside the others:
    flows load with the checks every provider shares; the call's provider is checked at the api."""
    shutil.copy(Path(__file__).with_name("reminder-amd.yaml"), stack.config.flows_dir / "reminder-amd.yaml")

    async def loaded():  # type: ignore[no-untyped-def]
        r = await http.post(
            f"{stack.config.api_url}/v1/calls",
            headers=auth(stack),
            json={"to": number(), "flow": "reminder-amd", "provider": "africastalking"},
        )
        return r if r.status_code == 422 and r.json().get("problems") else None

    refused = await wait_for(loaded, 20)  # the api knows it now, and refuses it on Africa's Talking
    assert any(p["pointer"] == "/actions/0/type" for p in refused.json()["problems"])
    call_key = await place(stack, http, "infobip", "reminder-amd", answer="machine")
    call = await sim_call(http, stack, call_key.split(":", 1)[1])
    assert [t["kind"] for t in call["transcript"]][:1] == ["machine-detected"] and not says(call)
    row = await wait_cdr(stack, call_key)
    assert (row["status"], row["hangup_cause"]) == ("completed", "MACHINE_DETECTED")
    person = await place(stack, http, "infobip", "reminder-amd")
    row = await wait_cdr(stack, person)
    assert (row["status"], row["hangup_cause"]) == ("completed", "NORMAL_CLEARING")
