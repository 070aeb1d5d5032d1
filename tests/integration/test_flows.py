"""The flow language end to end: the example flows and a published Voxology script through the
Africa's Talking simulator, dynamic flows against a customer application, and version pinning."""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path
from xml.etree import ElementTree as ET

import orjson
import pytest
import yaml

from switchboard.events import FlowErrorEvent, decode
from switchboard.testing import heard, says
from switchboard.topics import Topic

from . import customer_app
from .helpers import auth, read_topic, refresh_flows, sim_call, wait_cdr, wait_for

pytestmark = pytest.mark.integration
VOX = Path(__file__).resolve().parents[2] / "shared" / "tests" / "voxology"


def number() -> str:
    return f"+2547{uuid.uuid4().int % 10**8:08d}"


async def add_routes(stack, routes: dict[str, str], provider: str = "africastalking") -> None:
    """Route numbers to flows (or URLs) in the stack's flows folder and have the runner load it
    (with any flow files written before) now."""
    path = stack.config.flows_dir / "routes.yaml"
    data = yaml.safe_load(path.read_text())
    data.setdefault(provider, {}).update(routes)
    path.write_text(yaml.safe_dump(data))
    loaded = await refresh_flows(stack)
    assert loaded["routes"][provider].items() >= routes.items(), loaded  # a refused edit would not show


async def inbound(http, stack, to: str, digits: list[str] | None = None) -> dict:
    r = await http.post(f"{stack.config.sim_url}/sim/inbound", json={"caller": number(), "to": to, "digits": digits})
    return await sim_call(http, stack, r.json()["session_id"])


async def test_voice_otp_reads_the_code_and_repeats(stack, http):
    phone = number()
    await http.put(f"{stack.config.sim_url}/sim/phones/{phone}", json={"answer": "answer", "digits": ["1", "5"]})
    r = await http.post(
        f"{stack.config.api_url}/v1/calls",
        headers=auth(stack),
        json={"to": phone, "flow": "otp", "session_data": {"code": "4721"}},
    )
    assert r.status_code == 200, r.text
    call = await sim_call(http, stack, r.json()["provider_response"]["entries"][0]["sessionId"])
    code = "Your code is 4, 7, 2, 1. Again: 4, 7, 2, 1."
    assert says(call).count(code) == 2 and says(call)[-1] == "Goodbye."
    row = await wait_cdr(stack, r.json()["call_key"])
    assert orjson.loads(row["session_data"]) == {"code": "4721"} and orjson.loads(row["inputs"]) == {"repeat": "5"}


@pytest.mark.parametrize("open_now", [True, False])
async def test_business_hours_routing(stack, http, open_now):
    name = f"business-hours-{'open' if open_now else 'closed'}"
    text = (stack.config.flows_dir / "business-hours.yaml").read_text()
    # the real flow, with its days and hours opened up (or closed to nothing) so the test does not
    # depend on when it runs
    hours = 'opens: "0"\n      closes: "24"' if open_now else 'opens: "0"\n      closes: "0"'
    text = (
        text.replace("name: business-hours", f"name: {name}")
        .replace('open_days: "[1, 2, 3, 4, 5]"', 'open_days: "[1, 2, 3, 4, 5, 6, 7]"')
        .replace('opens: "8"\n      closes: "17"', hours)
    )
    assert hours in text
    (stack.config.flows_dir / f"{name}.yaml").write_text(text)
    to = "+25471100031" + ("1" if open_now else "2")
    await add_routes(stack, {to: name})
    call = await inbound(http, stack, to)
    assert call["errors"] == []
    if open_now:
        assert says(call)[0] == "Thank you for calling Switchboard Bank. Connecting you to our team."
        assert "All our agents are busy. Please hold; your call is important to us." in says(call)
        (enqueue,) = heard(call, "enqueue")
        assert enqueue["name"] == "support" and enqueue["holdMusic"].endswith("hold-music.mp3")
    else:
        assert says(call)[0].startswith("Our offices are open Monday to Friday")
        assert heard(call, "record") and says(call)[-1] == "Thank you. We will call you back. Goodbye."
        row = await wait_cdr(stack, f"africastalking:{call['session_id']}")
        assert "sim.recordings.test" in row["recordings"]


async def test_agent_queue_and_dequeue(stack, http):
    r = await http.post(f"{stack.config.sim_url}/sim/inbound", json={"caller": number(), "to": "+254711000301"})
    caller_id = r.json()["session_id"]

    async def waiting():  # type: ignore[no-untyped-def]
        q = await http.get(
            f"{stack.config.api_url}/v1/queues", headers=auth(stack), params={"phone_numbers": "+254711000301"}
        )
        return q.json()["queues"] if q.status_code == 200 else None

    queues = await wait_for(waiting, 20, 0.1)
    assert queues == [{"phone_number": "+254711000301", "queue_name": "support", "num_calls": 1}]
    agent = await inbound(http, stack, "+254711000302")
    assert says(agent) == ["Connecting you to the next caller in the support queue."]
    assert heard(agent, "dequeue")[0]["phoneNumber"] == "+254711000301" and heard(agent, "connected")
    caller = await sim_call(http, stack, caller_id)
    assert heard(caller, "enqueue")[0]["name"] == "support"
    assert heard(caller, "dequeued")[0]["agent"] == agent["caller_number"]
    q = await http.get(
        f"{stack.config.api_url}/v1/queues", headers=auth(stack), params={"phone_numbers": "+254711000301"}
    )
    assert q.json() == {"queues": []}


async def test_published_voxology_script_through_the_simulator(stack, http):
    shutil.copy(VOX / "variable-processing.json", stack.config.flows_dir / "variable-processing.json")
    await add_routes(stack, {"+254711000320": "variable-processing"})
    call = await inbound(http, stack, "+254711000320", digits=["1#"])
    assert says(call)[-2:] == [
        "You pressed 1, or you are over 21.",
        "We hope you enjoyed variable processing. Good bye.",
    ]


CONFERENCE_FLOW = {
    "name": "doctor-line",
    "actions": [
        {"type": "SAY", "params": {"text": "Connecting you to the doctor."}},
        {
            "type": "CONFERENCE",
            "params": {"name": "doctor-${callerNo}", "max_participants": 2, "event": "join"},
            "events": {
                "on_enter": [{"type": "SAY", "params": {"text": "You are the first on the line."}}],
                "on_enter_error_max_participants": [
                    {"type": "SAY", "params": {"text": "Someone else already answered. Goodbye."}},
                    {"type": "HANGUP"},
                ],
            },
        },
        {"type": "SAY", "params": {"text": "The conference has ended."}},
        {"type": "HANGUP"},
    ],
}


async def test_conference_events_run_on_voxology_an_empty_room_and_a_full_one(stack, http):
    """Issue 16, item 4: CONFERENCE ``events`` reach Voxology (voxology.md §4) and the simulator
    plays them: ``on_enter`` when the caller joins, ``on_enter_error_max_participants`` when the
    room is full (someone else already answered), which ends this call there."""
    (stack.config.flows_dir / "doctor-line.json").write_text(json.dumps(CONFERENCE_FLOW))
    await add_routes(stack, {"+15550000330": "doctor-line"}, provider="voxology")

    async def call_from(caller: str) -> dict:
        r = await http.post(
            f"{stack.config.sim_url}/sim/voxology/inbound", json={"caller": caller, "to": "+15550000330"}
        )
        return await sim_call(http, stack, r.json()["session_id"])

    alone = await call_from("+15550000401")
    assert says(alone) == [
        "Connecting you to the doctor.",
        "You are the first on the line.",
        "The conference has ended.",
    ], alone["transcript"]
    room = f"{stack.config.sim_url}/sim/voxology/conferences/doctor-+15550000402"
    seated = await http.post(room, json={"participants": 2})  # the caller and the doctor: full
    assert seated.json()["participants"] == 2
    refused = await call_from("+15550000402")
    assert says(refused) == ["Connecting you to the doctor.", "Someone else already answered. Goodbye."]


CORPUS = yaml.safe_load((VOX / "corpus.yaml").read_text())
INBOUND = {"africastalking": "/sim/inbound", "voxology": "/sim/voxology/inbound", "telesign": "/sim/telesign/inbound"}
CORPUS_CASES = [
    pytest.param(i, provider, id=f"{entry['flow']}-{'-'.join(entry.get('digits', [])) or 'no-keys'}-{provider}")
    for i, entry in enumerate(CORPUS)
    for provider in entry["providers"]
]


@pytest.mark.parametrize(("index", "provider"), CORPUS_CASES)
async def test_the_voxology_corpus(stack, http, index, provider):
    """Issue 16, item 5: each Voxology-style flow of ``shared/tests/voxology/corpus.yaml`` gives
    the transcript Voxology's semantics give, on the providers it lists."""
    entry = CORPUS[index]
    shutil.copy(VOX / entry["flow"], stack.config.flows_dir / entry["flow"])
    flow = json.loads((VOX / entry["flow"]).read_text()).get("name") or Path(entry["flow"]).stem
    to = {
        "voxology": f"+15550007{index:02d}0",
        "telesign": f"+15550008{index:02d}0",
        "africastalking": f"+2547110007{index:02d}",
    }[provider]
    await add_routes(stack, {to: flow}, provider=provider)
    body = {"caller": number() if provider == "africastalking" else f"+1555000{uuid.uuid4().int % 10**4:04d}", "to": to}
    r = await http.post(stack.config.sim_url + INBOUND[provider], json={**body, "digits": entry.get("digits")})
    call = await sim_call(http, stack, r.json()["session_id"])
    assert says(call) == entry["says"], call["transcript"]


async def test_dynamic_flow_from_a_customer_application(stack, http):
    async with customer_app.serve() as (url, received):
        await add_routes(stack, {"+254711000400": f"{url}/voice"})
        call = await inbound(http, stack, "+254711000400", digits=["7"])
        assert says(call) == ["Dynamic menu: press a key.", "The application saw 7."]
        first, second = received[0], received[1]
        assert first["api_no"] == "+254711000400" and first["provider"] == "africastalking"
        assert first["direction"] == "inbound" and first["event"]["type"] == "call.started"
        assert second["event"]["digits"] == "7" and second["collected"] == {"choice": "7"}


async def test_an_application_written_for_voxology_runs_unchanged_on_africas_talking(stack, http):
    """Issue 16, item 3: the tutorial-style application reads Voxology's request (``key_presses``
    as a list of ``{name, digits}``). Marked ``dialect: voxology``, the flow sends it that request
    on Africa's Talking, so it hears the key instead of asking again until stopped."""
    async with customer_app.serve() as (url, received):
        flow = {
            "name": "vox-tutorial",
            "dialect": "voxology",
            "actions": [{"type": "REDIRECT", "params": {"url": f"{url}/voxology"}}],
        }
        (stack.config.flows_dir / "vox-tutorial.json").write_text(json.dumps(flow))
        await add_routes(stack, {"+254711000430": "vox-tutorial"})
        call = await inbound(http, stack, "+254711000430", digits=["4"])
        assert says(call)[:2] == ["Pick a key.", "Voxology app heard 4."]
        first, second = received[0], received[1]
        assert first["type"] == "init_call" and first["key_presses"] == [] and "call_key" not in first
        assert second["type"] == "live_call" and second["key_presses"] == [{"name": "pick", "digits": "4"}]
        assert second["caller_no"] == call["caller_number"] and second["api_no"] == "+254711000430"


async def test_webhook_answer_is_saved_and_used(stack, http):
    async with customer_app.serve() as (url, received):
        flow = {
            "name": "greet",
            "actions": [
                {
                    "type": "WEBHOOK",
                    "params": {"url": f"{url}/lookup", "body": {"who": "${callerNo}"}, "save_as": "crm"},
                },
                {"type": "SAY", "params": {"text": "Hello ${webhook.crm.firstName}, ${webhook.crm.tier} member."}},
                {"type": "HANGUP"},
            ],
        }
        (stack.config.flows_dir / "greet.json").write_text(json.dumps(flow))
        await add_routes(stack, {"+254711000410": "greet"})
        call = await inbound(http, stack, "+254711000410")
        assert says(call) == ["Hello Amina, gold member."]
        assert received[-1] == {"who": call["caller_number"]}


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("slow", "timed out after 500 ms"),
        ("error", "answered HTTP 500"),
        ("invalid", "invalid flow"),
        ("big", "larger than 65536 bytes"),
    ],
)
async def test_failing_application_ends_the_call_politely(stack, http, path, reason):
    async with customer_app.serve() as (url, _):
        kind = "REDIRECT" if path == "invalid" else "WEBHOOK"
        params = {"url": f"{url}/{path}"} | ({"timeout_ms": 500} if kind == "WEBHOOK" else {})
        flow = {
            "name": f"fail-{path}",
            "actions": [
                {"type": "SAY", "params": {"text": "One moment."}},
                {"type": kind, "params": params},
                {"type": "SAY", "params": {"text": "never"}},
            ],
        }
        (stack.config.flows_dir / f"fail-{path}.json").write_text(json.dumps(flow))
        to = f"+25471100042{['slow', 'error', 'invalid', 'big'].index(path)}"
        await add_routes(stack, {to: f"fail-{path}"})
        call = await inbound(http, stack, to)
        assert says(call) == ["One moment.", "Sorry, we are unable to continue this call. Goodbye."]
        key = f"africastalking:{call['session_id']}"
        row = await wait_cdr(stack, key)
        assert reason in row["flow_error"]

        async def flow_error():  # type: ignore[no-untyped-def]
            return await read_topic(stack, Topic.FLOW_ERRORS.value, key=key.encode(), idle_s=1)

        (record,) = await wait_for(flow_error, 20, 0.5)
        assert reason in decode(FlowErrorEvent, record.value).message


async def test_a_call_keeps_its_flow_version(stack, http):
    path = stack.config.flows_dir / "pinned.yaml"

    def version(n: int) -> str:
        return yaml.safe_dump(
            {
                "name": "pinned",
                "actions": [
                    {
                        "type": "COLLECT",
                        "params": {"num_digits": 1},
                        "actions": [{"type": "SAY", "params": {"text": f"Version {n} asks."}}],
                    },
                    {"type": "SAY", "params": {"text": f"Version {n} answers ${{keyPresses}}."}},
                ],
            }
        )

    path.write_text(version(1))
    await add_routes(stack, {"+254711000430": "pinned"})
    v1 = (await refresh_flows(stack))["flows"]["pinned"]
    url = stack.config.callback_url
    old = {
        "isActive": "1",
        "sessionId": f"ATVId_{uuid.uuid4().hex}",
        "direction": "Inbound",
        "callerNumber": "+254700000001",
        "destinationNumber": "+254711000430",
    }
    r = await http.post(url, data=old)
    gd = ET.fromstring(r.content)[0]
    assert gd[0].text == "Version 1 asks."
    path.write_text(version(2))
    v2 = (await refresh_flows(stack))["flows"]["pinned"]
    assert v2 != v1
    new = {**old, "sessionId": f"ATVId_{uuid.uuid4().hex}"}
    r = await http.post(url, data=new)
    assert ET.fromstring(r.content)[0][0].text == "Version 2 asks."  # new calls get the new version
    r = await http.post(gd.get("callbackUrl"), data={**old, "dtmfDigits": "3"})
    assert ET.fromstring(r.content)[0].text == "Version 1 answers 3."  # the live call keeps its own


async def test_pinned_versions_survive_a_fresh_runner(stack, tmp_path):
    import redis.asyncio as aioredis

    from switchboard.flow.repository import FlowRepository

    (tmp_path / "f.yaml").write_text(
        yaml.safe_dump({"name": "f", "actions": [{"type": "SAY", "params": {"text": "one"}}]})
    )
    redis = aioredis.from_url(stack.config.redis_url)
    first = FlowRepository(tmp_path, redis=redis)
    await first.save_versions()
    v1 = first.current["f"].version
    (tmp_path / "f.yaml").write_text(
        yaml.safe_dump({"name": "f", "actions": [{"type": "SAY", "params": {"text": "two"}}]})
    )
    fresh = FlowRepository(tmp_path, redis=redis)  # another replica, or after a restart
    assert fresh.current["f"].version != v1
    pinned = await fresh.pinned("f", v1)
    assert pinned is not None and pinned.version == v1 and pinned.actions[0]["params"]["text"] == "one"
    await redis.aclose()


async def test_dial_with_a_flow_places_a_separate_call(stack, http):
    """DIAL with ``flow`` and ``session_data``: the runner publishes a dial request for a second
    call running that flow, and the first call goes on at once."""
    phone = number()
    await http.put(f"{stack.config.sim_url}/sim/phones/{phone}", json={"answer": "answer", "digits": ["2"]})
    flow = {
        "name": "call-them",
        "actions": [
            {"type": "DIAL", "params": {"no": phone, "flow": "otp"}, "session_data": {"code": "47${1 + 20}"}},
            {"type": "SAY", "params": {"text": "We are calling them."}},
            {"type": "HANGUP"},
        ],
    }
    (stack.config.flows_dir / "call-them.json").write_text(json.dumps(flow))
    await add_routes(stack, {"+254711000430": "call-them"})
    first = await inbound(http, stack, "+254711000430")
    assert says(first) == ["We are calling them."]

    async def placed():  # type: ignore[no-untyped-def]
        calls = (await http.get(f"{stack.config.sim_url}/sim/calls")).json()["calls"]
        return [c for c in calls if c["caller_number"] == phone and c["final_posted"]]

    (leg,) = await wait_for(placed, 30, 0.2)
    assert leg["direction"] == "Outbound" and "Your code is 4, 7, 2, 1. Again: 4, 7, 2, 1." in says(leg)
    row = await wait_cdr(stack, f"africastalking:{leg['session_id']}")
    assert row["flow_id"] == "otp" and orjson.loads(row["session_data"]) == {"code": "4721"}
