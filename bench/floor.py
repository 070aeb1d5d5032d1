"""Benchmark: the CPU floor of one callback with the libraries the data plane is built on.

A callback costs the ingress one HTTP request (uvicorn + Starlette), one Redis command (the
duplicate guard), one produce (aiokafka through FastStream, acks=all) and one reply message from
the Redis channel; it costs the flow-runner one consumed record and two Redis commands (load, and
the save-and-reply script). This bench measures each of those primitives alone, on the same local
Tansu and Redis the stack uses, as CPU microseconds of the client process per operation
(``time.process_time`` for in-process clients; ``/proc/<pid>/stat`` for the HTTP server), under
uvloop like the services. Their sum is what a callback costs before any of our code runs: if it is
above the issue's 1.5 ms target for ingress + flow-runner, no change to our own code reaches it.

Each figure is the min / median / max of three runs. Results: printed, and written to
``bench/results/floor.json``.

    uv run python bench/floor.py [--ops 3000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import uvloop
from aiokafka import AIOKafkaConsumer

from switchboard.kafka import make_broker
from switchboard.redis import make_redis
from switchboard.settings import ServiceSettings
from switchboard_devstack.stack import REPO, Stack, StackConfig, free_port

RESULTS = REPO / "bench" / "results" / "floor.json"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
FORM = b"isActive=1&sessionId=ATVId_x&direction=Inbound&callerNumber=%2B254711000001&destinationNumber=%2B254711000200"

HTTP_APP = """
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from urllib.parse import parse_qsl

async def callback(request: Request) -> Response:
    dict(parse_qsl((await request.body()).decode()))
    return Response(b'<?xml version="1.0"?><Response><Say>hi</Say></Response>', media_type="application/xml")

app = Starlette(routes=[Route("/cb", callback, methods=["POST"])])
"""


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


async def per_op(ops: int, op: Callable[[], Awaitable[Any]], rate: float | None = None) -> float:
    """CPU µs of this process per ``op()``, ``ops`` times: one after another, or with ``rate``
    started each second (open loop, as callbacks arrive), which lets a client batch what arrives
    together as it does in the services."""
    for _ in range(min(200, ops)):  # warm up: connections, caches
        await op()
    start = time.process_time()
    if rate is None:
        for _ in range(ops):
            await op()
    else:
        began = time.monotonic()
        tasks = []
        for i in range(ops):
            if (delay := began + i / rate - time.monotonic()) > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.ensure_future(op()))
        await asyncio.gather(*tasks)
    return (time.process_time() - start) / ops * 1e6


PRODUCER = """
import asyncio, sys, time
from aiokafka import AIOKafkaProducer
async def main(bootstrap, topic, count, rate):
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    began = time.monotonic()
    for i in range(count):
        if (delay := began + i / rate - time.monotonic()) > 0:
            await asyncio.sleep(delay)
        await producer.send(topic, b"x" * 700, key=b"call-key")
    await producer.stop()
asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])))
"""


async def librdkafka_per_produce(config: StackConfig, topic: str, ops: int, rate: float) -> float:
    """CPU µs of this process (librdkafka's threads included) per message produced with acks=all
    at ``rate``/s through confluent-kafka: the candidate for the next lever, measured alike."""
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": config.kafka_bootstrap, "acks": "all", "linger.ms": 0})
    delivered = 0

    def on_delivery(err: Any, _msg: Any) -> None:
        nonlocal delivered
        delivered += err is None

    async def produce() -> None:
        producer.produce(topic, b"x" * 700, key=b"call-key", on_delivery=on_delivery)
        producer.poll(0)

    try:
        return await per_op(ops, produce, rate=rate)
    finally:
        producer.flush(10)


async def consume_per_record(config: StackConfig, topic: str, ops: int, rate: float, fetch_wait_ms: int) -> float:
    """CPU µs of this process per record consumed while a separate process produces ``rate``
    records a second (fetches of a record or two, as in the flow-runner), with the flow-runner's
    fetch wait; the polling between records is included, as the runner pays it."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=config.kafka_bootstrap,
        group_id=f"floor-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="latest",
        fetch_max_wait_ms=fetch_wait_ms,
    )
    await consumer.start()
    await consumer.seek_to_end()
    producer = await asyncio.create_subprocess_exec(
        sys.executable, "-c", PRODUCER, config.kafka_bootstrap, topic, str(ops + 100), str(rate)
    )
    try:
        for _ in range(100):
            await consumer.getone()
        start = time.process_time()
        for _ in range(ops):
            await consumer.getone()
        return (time.process_time() - start) / ops * 1e6
    finally:
        await asyncio.wait_for(producer.wait(), 60)
        await consumer.stop()


async def measure_clients(config: StackConfig, ops: int, rate: float, fetch_wait_ms: int) -> dict[str, float]:
    os.environ.update(config.service_env())
    settings = ServiceSettings()
    figures: dict[str, float] = {}
    redis = make_redis(settings)
    await redis.set("floor:k", b"x" * 600)  # about the size of a stored call state
    figures["redis GET (state load)"] = await per_op(ops, lambda: redis.get("floor:k"))
    script = redis.register_script("return redis.call('SET', KEYS[1], ARGV[1])")
    figures["redis EVALSHA (save script)"] = await per_op(ops, lambda: script(keys=["floor:s"], args=[b"x" * 600]))
    figures["redis SET NX EX (duplicate guard)"] = await per_op(
        ops, lambda: redis.set(f"floor:seen:{uuid.uuid4().hex}", b"e", nx=True, ex=60)
    )
    await redis.aclose()

    topic = f"floor-{uuid.uuid4().hex[:8]}"
    broker = make_broker(settings, client_id="floor")
    await broker.connect()
    body = b"x" * 700  # about the size of a CallEvent
    figures[f"produce, acks=all (FastStream publish, {rate:g}/s)"] = await per_op(
        ops, lambda: broker.publish(body, topic, key=b"call-key"), rate=rate
    )
    await broker.stop()
    figures[f"produce, acks=all (librdkafka via confluent-kafka, {rate:g}/s)"] = await librdkafka_per_produce(
        config, topic, ops, rate
    )
    figures[f"consume one record ({rate:g}/s, {fetch_wait_ms} ms fetch wait)"] = await consume_per_record(
        config, topic, ops, rate, fetch_wait_ms
    )
    return figures


async def http_per_request(port: int, pid: int, ops: int) -> float:
    """CPU µs of the uvicorn server process per keep-alive POST of a callback-sized form."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = (
        f"POST /cb HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(FORM)}\r\n\r\n"
    ).encode()

    async def post() -> None:
        writer.write(head + FORM)
        length = 0
        while (line := await reader.readline()) not in (b"\r\n", b""):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        await reader.readexactly(length)

    for _ in range(200):
        await post()
    before = cpu_seconds(pid)
    for _ in range(ops):
        await post()
    after = cpu_seconds(pid)
    writer.close()
    return (after - before) / ops * 1e6


def measure_http(root: Path, ops: int) -> float:
    app_dir = root / "floor_app"
    app_dir.mkdir(exist_ok=True)
    (app_dir / "floor_http.py").write_text(HTTP_APP)
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "floor_http:app", "--port", str(port), "--loop", "uvloop",
         "--http", "httptools", "--no-access-log", "--log-level", "warning"],
        cwd=app_dir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        for _ in range(100):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.1)
        return uvloop.run(http_per_request(port, proc.pid, ops))
    finally:
        proc.terminate()
        proc.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ops", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rate", type=float, default=150, help="callbacks/s, as in webhook_roundtrip's CPU figure")
    parser.add_argument("--fetch-wait-ms", type=int, default=5, help="the flow-runner's local (Tansu) fetch wait")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    root = Path(tempfile.mkdtemp(prefix="sb-floor-"))
    os.chmod(root, 0o755)
    config = StackConfig.ephemeral(root)
    stack = Stack(config)
    runs: list[dict[str, float]] = []
    try:
        stack.start_kafka()
        stack.start_redis()
        for _ in range(args.runs):
            figures = uvloop.run(measure_clients(config, args.ops, args.rate, args.fetch_wait_ms))
            figures["HTTP request, uvicorn + Starlette (server CPU)"] = measure_http(root, args.ops)
            runs.append(figures)
            print({k: round(v, 1) for k, v in figures.items()}, flush=True)
    finally:
        stack.down()
        shutil.rmtree(root, ignore_errors=True)
    summary = {
        name: {
            "min": round(min(r[name] for r in runs), 1),
            "median": round(statistics.median(r[name] for r in runs), 1),
            "max": round(max(r[name] for r in runs), 1),
        }
        for name in runs[0]
    }
    med = {name: figures["median"] for name, figures in summary.items()}
    redis_op = statistics.median(
        [med["redis GET (state load)"], med["redis EVALSHA (save script)"], med["redis SET NX EX (duplicate guard)"]]
    )
    floor = {
        # ingress: the request, the duplicate guard, the produce, the reply message (a Redis read)
        "ingress_us": round(
            med["HTTP request, uvicorn + Starlette (server CPU)"]
            + med["redis SET NX EX (duplicate guard)"]
            + med[f"produce, acks=all (FastStream publish, {args.rate:g}/s)"]
            + redis_op
        ),
        # flow-runner: the record, the state load, the save-and-reply script
        "flow_runner_us": round(
            med[f"consume one record ({args.rate:g}/s, {args.fetch_wait_ms} ms fetch wait)"]
            + med["redis GET (state load)"]
            + med["redis EVALSHA (save script)"]
        ),
    }
    floor["ingress_plus_flow_runner_us"] = floor["ingress_us"] + floor["flow_runner_us"]
    print(json.dumps({"per_op_cpu_us": summary, "floor": floor}, indent=2))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {"load_average": os.getloadavg(), "ops": args.ops, "per_op_cpu_us": summary, "floor": floor, "runs": runs},
            indent=2,
        )
    )
    print(f"written to {RESULTS.relative_to(REPO)}")


if __name__ == "__main__":
    main()
