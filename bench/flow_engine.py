"""Benchmark: the flow engine alone.

A 50-action flow with conditions, templates, SET arithmetic, a FOREACH and a COLLECT is run
callback after callback (each run goes from one COLLECT to the next). Reported:

- steps per second on one core (actions executed / CPU time of the loop);
- per-callback latency p50/p99, *excluding I/O* (the interpreter only, state in memory);
- per-callback latency *including* the state's load and save in a real Redis (JSON + the Lua
  compare-and-set), which is what the flow-runner pays per event besides Kafka.

Targets: at least 50,000 steps/s on one core and a p99 under 1 ms per callback excluding I/O.

JavaScript (issue 16, item 2) is measured on the same flow two more ways: *hybrid*, the flow plus
three JavaScript idioms per callback (``new Date().getHours()``, a string method, a template
literal) that our own grammar does not cover and the QuickJS sandbox runs, everything else staying
in Python, as Switchboard runs flows; and *all in JavaScript*, every one of the flow's expressions
forced through the sandbox (our parser switched off), which is what embedding an engine for
everything would cost. Also: the cost of making a sandbox (a fresh context per evaluation would pay
it every time).

Prints the figures and writes ``bench/results/flow_engine.json``.

    uv run python bench/flow_engine.py [--callbacks 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from switchboard.events import CallEvent, CallEventType, Direction
from switchboard.flow import expressions, javascript
from switchboard.flow.actions.base import EngineSettings
from switchboard.flow.document import build_flow, walk
from switchboard.flow.expressions import ExpressionError
from switchboard.flow.interpreter import run
from switchboard.flow.templates import compile_template
from switchboard.providers.africastalking import render
from switchboard.state import CallState, StateStore
from switchboard_devstack.stack import REPO, free_port

RESULTS = REPO / "bench" / "results" / "flow_engine.json"


def fifty_action_flow() -> dict:
    """50 actions per round: SETs, IFs with templates, a FOREACH, SAYs, then a COLLECT."""
    body: list[dict] = [{"type": "LABEL", "name": "top"}]
    body += [{"type": "SET", "params": {"n": "int($n) + 1", "total": "int($total) + $n * 2"}}]
    for i in range(10):
        body.append(
            {
                "type": "IF",
                "condition": f"$n % {i + 2} == 0 && $sessionData.tier == 'gold' || $n > {i * 100}",
                "then": [{"type": "SET", "params": {f"flag{i}": "true"}}],
                "orElse": [{"type": "SET", "params": {f"flag{i}": "false"}}],
            }
        )
        body.append(
            {
                "type": "SAY",
                "params": {
                    "text": f"Item {i}: ${{sessionData.name}} has ${{total}} points, ${{...keyPresses}} pressed."
                },
            }
        )
    body.append(
        {
            "type": "FOREACH",
            "params": {"iterator": "$sessionData.items"},
            "then": [{"type": "SET", "params": {"last": "$val + ':' + $index"}}],
        }
    )
    body += [{"type": "SET", "params": {f"v{i}": f"lower($sessionData.name) + '{i}'"}} for i in range(8)]
    body.append(
        {
            "type": "COLLECT",
            "name": "k",
            "params": {"num_digits": 1, "timeout": 5000},
            "actions": [{"type": "SAY", "params": {"text": "Press a key, ${sessionData.name}."}}],
        }
    )
    body.append({"type": "GOTO", "params": {"label": "top"}})
    return {"name": "bench", "actions": [{"type": "SET", "params": {"n": "0", "total": "0"}}, *body]}


JS_IDIOMS = [
    {"type": "IF", "condition": "new Date().getHours() < 17 && new Date().getDay() != 0", "then": []},
    {"type": "SET", "params": {"shout": "$sessionData.name.toUpperCase().padEnd(8, '!')"}},
    {"type": "SET", "params": {"line": "`${$sessionData.name} has ${Math.round($total / 2)} points`"}},
]


def hybrid_flow() -> dict:
    """:func:`fifty_action_flow` with :data:`JS_IDIOMS` before its COLLECT."""
    doc = fifty_action_flow()
    body = doc["actions"]
    collect = next(i for i, a in enumerate(body) if a["type"] == "COLLECT")
    doc["actions"] = [*body[:collect], *JS_IDIOMS, *body[collect:]]
    return doc


@contextmanager
def everything_in_javascript() -> Iterator[None]:
    """Our own parser refuses everything, so every expression goes to the QuickJS sandbox."""

    def refuse(self: object) -> None:
        raise ExpressionError("bench: the JavaScript path")

    caches = (expressions.compile_expression, expressions.compiled, compile_template)
    original = expressions._Parser.parse
    expressions._Parser.parse = refuse  # type: ignore[method-assign,assignment]
    for cache in caches:
        cache.cache_clear()
    try:
        yield
    finally:
        expressions._Parser.parse = original  # type: ignore[method-assign]
        for cache in caches:
            cache.cache_clear()


def sandbox_cost(rounds: int = 200) -> dict:
    """CPU ms to make a sandbox (a context with the prelude, locked down) and µs per evaluation in
    a made one."""
    cpu0 = time.process_time()
    for _ in range(rounds):
        javascript._Sandbox()
    create = (time.process_time() - cpu0) / rounds
    scope = {"timeZone": "Africa/Nairobi", "sessionData": {"name": "Amina"}}
    javascript.run_javascript("new Date().getHours()", scope)
    cpu0 = time.process_time()
    for _ in range(rounds * 20):
        javascript.run_javascript("new Date().getHours()", scope)
    evaluate = (time.process_time() - cpu0) / (rounds * 20)
    return {"create_ms": round(create * 1000, 3), "evaluation_us": round(evaluate * 1e6, 1)}


def fresh_state() -> CallState:
    return CallState(
        call_key="africastalking:bench",
        provider="africastalking",
        direction=Direction.INBOUND,
        caller_number="+254700000001",
        destination_number="+254711000200",
        session_data={"name": "Amina", "tier": "gold", "items": ["a", "b", "c"]},
    )


def event(i: int) -> CallEvent:
    return CallEvent(
        type=CallEventType.INPUT_RECEIVED,
        provider="africastalking",
        call_key="africastalking:bench",
        session_id="bench",
        direction=Direction.INBOUND,
        digits=str(i % 10),
    )


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def engine_only(flow, callbacks: int, per_callback: int) -> dict:  # type: ignore[no-untyped-def]
    settings = EngineSettings(callback_url="https://sb.test/cb")
    state = run(flow, fresh_state(), None, settings).state
    events = [event(i) for i in range(callbacks)]
    latencies = []
    steps = 0
    cpu0 = time.process_time()
    for e in events:
        t0 = time.perf_counter()
        t = run(flow, state, e, settings)
        render(t.actions)
        latencies.append(time.perf_counter() - t0)
        steps += per_callback
        state = t.state
    cpu = time.process_time() - cpu0
    assert not t.error, t.error
    return {
        "callbacks": callbacks,
        "steps": steps,
        "steps_per_s_one_core": round(steps / cpu),
        "p50_ms": round(pct(latencies, 0.5) * 1000, 3),
        "p99_ms": round(pct(latencies, 0.99) * 1000, 3),
    }


async def with_state_io(flow, callbacks: int, redis_url: str) -> dict:  # type: ignore[no-untyped-def]
    from redis.asyncio import Redis

    redis = Redis.from_url(redis_url)
    store = StateStore(redis)
    settings = EngineSettings(callback_url="https://sb.test/cb")
    first = run(flow, fresh_state(), None, settings).state
    await store.save(first.model_copy(update={"version": 0}))
    latencies = []
    for i in range(callbacks):
        t0 = time.perf_counter()
        state = await store.load("africastalking:bench")
        assert state is not None
        t = run(flow, state, event(i), settings)
        render(t.actions)
        await store.save(t.state)
        latencies.append(time.perf_counter() - t0)
    await redis.aclose()
    return {
        "callbacks": callbacks,
        "p50_ms": round(pct(latencies, 0.5) * 1000, 3),
        "p99_ms": round(pct(latencies, 0.99) * 1000, 3),
    }


def count_steps(flow) -> int:  # type: ignore[no-untyped-def]
    """Actions one callback executes, counted by instrumenting the registry once."""
    from switchboard.flow.actions import REGISTRY

    counter = {"n": 0}
    originals = {}
    for kind, spec in REGISTRY.items():
        originals[kind] = spec.step

        def counted(ctx, node, _orig=spec.step):  # type: ignore[no-untyped-def]
            counter["n"] += 1
            return _orig(ctx, node)

        spec.step = counted  # type: ignore[method-assign]
    try:
        settings = EngineSettings()
        state = run(flow, fresh_state(), None, settings).state
        counter["n"] = 0
        run(flow, state, event(1), settings)
        return counter["n"]
    finally:
        for kind, spec in REGISTRY.items():
            spec.step = originals[kind]  # type: ignore[method-assign]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--callbacks", type=int, default=20000)
    args = parser.parse_args()
    flow = build_flow(fifty_action_flow(), name="bench")
    per_callback = count_steps(flow)
    engine = engine_only(flow, args.callbacks, per_callback)
    total = sum(1 for _ in walk(flow.actions, prompts=True))
    print(f"flow: {total} actions in the document, {per_callback} run per callback")
    print(
        f"engine only   : {engine['steps_per_s_one_core']:>8} steps/s on one core   "
        f"p50 {engine['p50_ms']} ms  p99 {engine['p99_ms']} ms per callback"
    )
    js_callbacks = max(1000, args.callbacks // 4)
    hybrid = build_flow(hybrid_flow(), name="bench-hybrid")
    hybrid_engine = engine_only(hybrid, js_callbacks, count_steps(hybrid))
    print(
        f"hybrid (3 JS) : {hybrid_engine['steps_per_s_one_core']:>8} steps/s on one core   "
        f"p50 {hybrid_engine['p50_ms']} ms  p99 {hybrid_engine['p99_ms']} ms per callback"
    )
    with everything_in_javascript():
        all_js = build_flow(fifty_action_flow(), name="bench-js")
        js_engine = engine_only(all_js, js_callbacks, count_steps(all_js))
    print(
        f"all JavaScript: {js_engine['steps_per_s_one_core']:>8} steps/s on one core   "
        f"p50 {js_engine['p50_ms']} ms  p99 {js_engine['p99_ms']} ms per callback"
    )
    sandbox = sandbox_cost()
    print(
        f"sandbox       : {sandbox['create_ms']} CPU ms to make one, "
        f"{sandbox['evaluation_us']} CPU µs per evaluation in it"
    )
    root = Path(tempfile.mkdtemp(prefix="sb-bench-redis-"))
    port = free_port()
    server = subprocess.Popen(
        [
            shutil.which("redis-server") or "redis-server",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(root),
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        time.sleep(0.3)
        io = asyncio.run(with_state_io(flow, min(args.callbacks, 5000), f"redis://127.0.0.1:{port}/0"))
    finally:
        server.terminate()
        shutil.rmtree(root, ignore_errors=True)
    print(f"with state I/O: p50 {io['p50_ms']} ms  p99 {io['p99_ms']} ms per callback (load + run + render + save)")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "cpus": os.cpu_count(),
                "actions_in_flow": total,
                "actions_per_callback": per_callback,
                "engine_only": engine,
                "engine_hybrid_javascript": hybrid_engine,
                "engine_all_javascript": js_engine,
                "sandbox": sandbox,
                "with_state_io": io,
            },
            indent=2,
        )
    )
    print(f"written to {RESULTS.relative_to(REPO)}")


if __name__ == "__main__":
    main()
