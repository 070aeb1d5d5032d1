"""The interactive phone's keypad (the console's "call it from the browser"): keys buffered like
DTMF, read up to a count or a finish key, a timeout with no key, and a hang-up."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sim_server import RunningSim

from switchboard_provider_sim.phone import CallerHungUp, Keypad


async def test_keys_pressed_before_the_prompt_are_buffered_and_read_up_to_the_count() -> None:
    pad = Keypad()
    pad.press("123")
    assert await pad.collect(2, None, 1.0) == "12"
    assert await pad.collect(1, None, 1.0) == "3"


async def test_a_finish_key_ends_the_digits_and_is_kept_as_a_phone_sends_it() -> None:
    pad = Keypad()
    pad.press("42#9")
    assert await pad.collect(10, "#", 1.0) == "42#"


async def test_no_key_in_time_is_an_empty_answer_and_a_late_key_waits_for_the_next_prompt() -> None:
    pad = Keypad()
    assert await pad.collect(1, None, 0.05) == ""
    loop = asyncio.get_running_loop()
    loop.call_later(0.05, pad.press, "7")
    assert await pad.collect(1, None, 2.0) == "7"


async def test_hanging_up_ends_a_wait_for_keys() -> None:
    pad = Keypad()
    asyncio.get_running_loop().call_later(0.05, pad.hang_up)
    with pytest.raises(CallerHungUp):
        await pad.collect(1, None, 5.0)
    assert pad.hung_up


def test_only_an_interactive_phone_takes_keys(sim: RunningSim) -> None:
    number = "+254700000777"
    assert httpx.post(f"{sim.url}/sim/phones/{number}/keys", json={"digits": "1"}).status_code == 404
    httpx.put(f"{sim.url}/sim/phones/{number}", json={"interactive": True}).raise_for_status()
    assert httpx.post(f"{sim.url}/sim/phones/{number}/keys", json={"digits": "1#"}).status_code == 200
    assert httpx.post(f"{sim.url}/sim/phones/{number}/keys", json={"digits": "1a"}).status_code == 422
    assert httpx.get(f"{sim.url}/sim/phones/{number}/calls").json() == {"calls": []}
    assert httpx.post(f"{sim.url}/sim/phones/{number}/hangup").status_code == 200
