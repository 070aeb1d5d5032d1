"""The Infobip simulator against the spec (``infobip.md``): auth, the send response, the retry
ladder, pushed reports retried until accepted, fetch-once pulls, logs."""

from __future__ import annotations

import httpx
import orjson
import pytest
from sim_server import RunningSim

from switchboard_provider_sim.infobip.runner import retry_waits

KEY = "sim-infobip-key"
AUTH = {"Authorization": f"App {KEY}"}


def send(sim: RunningSim, message: dict, **extra: object) -> httpx.Response:
    body = {"messages": [{"from": "15550000700", "text": "Hello there.", **message}], **extra}
    return httpx.post(f"{sim.url}/tts/3/advanced", json=body, headers=AUTH)


def script(sim: RunningSim, number: str, **fields: object) -> None:
    httpx.put(f"{sim.url}/sim/phones/{number}", json={"answer": "answer", **fields}).raise_for_status()


@pytest.mark.parametrize(
    ("retry", "waits"),
    [
        ({"minPeriod": 1, "maxPeriod": 10, "maxCount": 4}, [1, 2, 5, 10]),
        ({"minPeriod": 5, "maxPeriod": 5, "maxCount": 3}, [5, 5, 5]),
        ({"minPeriod": 20, "maxPeriod": 30, "maxCount": 4}, [20, 30, 30, 30]),
        ({"minPeriod": 3, "maxPeriod": 45, "maxCount": 9}, [5, 10, 20, 30]),  # rounded up, clamped to 4
        (None, []),
    ],
)
def test_the_retry_ladder(retry, waits):
    assert retry_waits(retry) == waits


def test_a_wrong_key_is_refused_in_the_error_envelope(sim):
    r = httpx.post(f"{sim.url}/tts/3/advanced", json={"messages": []}, headers={"Authorization": "App nope"})
    assert r.status_code == 401 and r.json()["requestError"]["serviceException"]["messageId"] == "UNAUTHORIZED"


def test_a_message_plays_collects_and_pushes_its_report(sim):
    script(sim, "+254700000001", digits=["42#"])
    r = send(
        sim,
        {
            "destinations": [{"to": "254700000001", "messageId": "m-1"}],
            "maxDtmf": 3,
            "callbackData": "t.c.sig",
            "notifyUrl": f"{sim.url}/hooks/infobip",
        },
    )
    assert r.status_code == 200
    assert r.json() == {
        "messages": [
            {
                "to": "254700000001",
                "messageId": "m-1",
                "status": {
                    "groupId": 1,
                    "groupName": "PENDING",
                    "id": 26,
                    "name": "PENDING_ACCEPTED",
                    "description": "Message accepted, pending for delivery.",
                },
            }
        ]
    }  # no bulkId for one destination
    sim.wait_idle()
    call = sim.call("m-1")
    assert [t["kind"] for t in call["transcript"]][:2] == ["say", "digits"]
    (pushed,) = [orjson.loads(h.raw)["results"] for h in sim.received if h.path == "/hooks/infobip"]
    report = pushed[0]
    assert report["messageId"] == "m-1" and report["callbackData"] == "t.c.sig"
    assert report["status"]["name"] == "DELIVERED_TO_HANDSET" and report["voiceCall"]["dtmfCodes"] == "42"
    assert report["voiceCall"]["duration"] > 0 and report["price"]["currency"] == "EUR"


def test_an_unanswered_call_is_retried_on_the_ladder_then_reported_once(sim):
    script(sim, "+254700000002", answer="busy")
    send(
        sim,
        {
            "destinations": [{"to": "254700000002", "messageId": "m-2"}],
            "retry": {"minPeriod": 1, "maxPeriod": 2, "maxCount": 2},
            "notifyUrl": f"{sim.url}/hooks/infobip",
        },
    )
    sim.wait_idle()
    busy = [t for t in sim.call("m-2")["transcript"] if t["kind"] == "busy"]
    assert [t["attempt"] for t in busy] == [1, 2, 3]
    reports = [orjson.loads(h.raw)["results"][0] for h in sim.received if h.path == "/hooks/infobip"]
    assert len(reports) == 1 and reports[0]["status"]["name"] == "BUSY" and reports[0]["voiceCall"]["dtmfCodes"] is None


def test_a_refused_push_is_tried_again(sim):
    sim.ib_status = [500, 503]
    send(sim, {"destinations": [{"to": "254700000003", "messageId": "m-3"}], "notifyUrl": f"{sim.url}/hooks/infobip"})
    sim.wait_idle()
    pushes = [h for h in sim.received if h.path == "/hooks/infobip"]
    assert len(pushes) == 3 and pushes[0].raw == pushes[2].raw


def test_reports_without_a_notify_url_are_pulled_once_and_logs_stay(sim):
    r = send(
        sim, {"destinations": [{"to": "254700000004", "messageId": "m-4"}, {"to": "254700000005", "messageId": "m-5"}]}
    )
    bulk = r.json()["bulkId"]
    assert bulk and len(r.json()["messages"]) == 2
    r = httpx.post(
        f"{sim.url}/tts/3/advanced",
        json={"messages": [{"from": "1", "destinations": [{"to": "254700000006"}]}]},
        headers=AUTH,
    )
    assert r.json()["messages"][0]["status"]["name"] == "REJECTED_MESSAGE_IS_EMPTY"
    sim.wait_idle()
    first = httpx.get(f"{sim.url}/voice/1/reports", params={"limit": 1}, headers=AUTH).json()["results"]
    rest = httpx.get(f"{sim.url}/voice/1/reports", headers=AUTH).json()["results"]
    again = httpx.get(f"{sim.url}/voice/1/reports", headers=AUTH).json()["results"]
    assert len(first) == 1 and len(rest) == 1 and again == []
    assert {first[0]["messageId"], rest[0]["messageId"]} == {"m-4", "m-5"} and first[0]["bulkId"] == bulk
    logs = httpx.get(f"{sim.url}/tts/3/logs", params=[("messageId", "m-4"), ("messageId", "m-5")], headers=AUTH).json()
    assert {row["messageId"] for row in logs["results"]} == {"m-4", "m-5"}
    assert httpx.get(f"{sim.url}/tts/3/logs", params={"messageId": "m-4"}, headers=AUTH).json()["results"][0]["doneAt"]


def test_single_drops_the_notify_url(sim):
    r = httpx.post(
        f"{sim.url}/tts/3/single",
        json={"from": "15550000700", "to": "254700000007", "text": "Hi", "notifyUrl": f"{sim.url}/hooks/infobip"},
        headers=AUTH,
    )
    message_id = r.json()["messages"][0]["messageId"]
    sim.wait_idle()
    assert not [h for h in sim.received if h.path == "/hooks/infobip"]
    pulled = httpx.get(f"{sim.url}/voice/1/reports", params={"messageId": message_id}, headers=AUTH).json()["results"]
    assert [p["messageId"] for p in pulled] == [message_id]


async def test_calls_handed_in_together_go_out_as_one_bulk_with_a_sending_speed():
    """The Infobip client gathers what the dialer places within its window into one request."""
    import asyncio

    from sim_server import running_sim

    from switchboard.events import DialRequest
    from switchboard.providers.infobip.client import InfobipClient

    with running_sim() as sim:
        client = InfobipClient(sim.url, KEY, cps=5, batch_window_s=0.2)
        requests = [DialRequest(to=f"+25470000010{i}", flow="blast", provider="infobip") for i in range(5)]
        attempts = await asyncio.gather(
            *(client.place_message(r, "+15550000700", {"text": f"Hello {i}."}) for i, r in enumerate(requests))
        )
        await client.aclose()
        assert all(a.accepted for a in attempts)
        assert {a.call_key for a in attempts} == {f"infobip:{r.call_id}" for r in requests}
        bulks = {a.provider_response.get("bulkId") for a in attempts}
        assert len(bulks) == 1 and None not in bulks  # one request, one bulk
        await asyncio.to_thread(sim.wait_idle)
        async with httpx.AsyncClient() as http:
            reports = (await http.get(f"{sim.url}/voice/1/reports", headers=AUTH)).json()["results"]
        assert sorted(r["messageId"] for r in reports) == sorted(r.call_id for r in requests)
        assert {r["bulkId"] for r in reports} == bulks


@pytest.mark.parametrize(
    ("speed", "per_s"),
    [({"speed": 5, "timeUnit": "second"}, 5.0), ({"speed": 120, "timeUnit": "minute"}, 2.0), (None, float("inf"))],
)
def test_sending_speed_in_calls_per_second(speed, per_s):
    from switchboard_provider_sim.infobip.gateway import per_second

    assert per_second(speed) == per_s


@pytest.mark.parametrize(("detection", "played"), [("hangup", False), ("continue", True), (None, True)])
def test_an_answering_machine(sim, detection, played):
    number = f"25470000020{['hangup', 'continue', None].index(detection)}"
    script(sim, f"+{number}", answer="machine")
    message = {
        "destinations": [{"to": number, "messageId": f"mach-{detection}"}],
        "notifyUrl": f"{sim.url}/hooks/infobip",
    }
    if detection:
        message["machineDetection"] = detection
    send(sim, message)
    sim.wait_idle()
    kinds = [t["kind"] for t in sim.call(f"mach-{detection}")["transcript"]]
    assert ("say" in kinds) is played and ("machine-detected" in kinds) is (detection is not None)
    (report,) = [orjson.loads(h.raw)["results"][0] for h in sim.received if h.path == "/hooks/infobip"]
    assert report["status"]["name"] == "DELIVERED_TO_HANDSET"
    if detection:
        assert report["voiceCall"]["answeredBy"] == "MACHINE" and report["error"]["name"] == "MACHINE_DETECTED"
    else:
        assert "answeredBy" not in report["voiceCall"] and report["error"]["name"] == "NORMAL_HANGUP"
