"""Fixtures for the cdr-sink's tests against real parts: PostgreSQL (migrated) and Tansu started on
free ports in a temporary folder, and the cdr-sink itself as a process, as in production; and,
for the unit and handler tests, the ``cdrs`` table of the workspace's ``postgres_server``."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from switchboard_cdr_sink.settings import CdrSinkSettings
from switchboard_devstack.stack import REPO, Stack, StackConfig

TRANSIENT_RETRY_S = 3.0
"""The sink under test hands a batch back after 3 s of database outage (30 s in production), so
a bounded test sees the whole outage path: retry, hand back, re-read, not ready, recovery."""


def _new_stack(prefix: str) -> Stack:
    root = Path(tempfile.mkdtemp(prefix=prefix))
    os.chmod(root, 0o755)
    return Stack(StackConfig.ephemeral(root, partitions=2))


def _wait_gone(pid: int, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def stop_postgres(stack: Stack) -> None:
    """Stop the PostgreSQL this fixture started (its process group, by the PID it recorded) with
    a fast shutdown: open connections are cut, as when a database host goes away."""
    pidfile = stack.run_dir / "postgres.pid"
    pid = int(pidfile.read_text())
    os.killpg(pid, signal.SIGINT)
    if not _wait_gone(pid, 20):
        os.killpg(pid, signal.SIGKILL)
        _wait_gone(pid, 5)
    pidfile.unlink()


@pytest.fixture(scope="module")
def pg() -> Iterator[Stack]:
    """PostgreSQL alone, migrated (``stack.config.database_url``)."""
    stack = _new_stack("sb-sink-pg-")
    try:
        stack.start_postgres()
        stack.migrate()
        yield stack
    finally:
        stack.down()
        shutil.rmtree(stack.root, ignore_errors=True)


@dataclass
class SinkStack:
    stack: Stack
    process: subprocess.Popen[bytes]

    @property
    def bootstrap(self) -> str:
        return self.stack.config.kafka_bootstrap

    @property
    def database_url(self) -> str:
        return self.stack.config.database_url

    @property
    def ready_url(self) -> str:
        return self.stack.config.url(self.stack.config.sink_port) + "/ready"

    def ready(self) -> tuple[int, dict[str, Any]]:
        r = httpx.get(self.ready_url, timeout=5)
        return r.status_code, r.json()

    def log(self) -> str:
        return (self.stack.logs / "cdr-sink.log").read_text(errors="replace")

    retry_s = TRANSIENT_RETRY_S

    def stop_postgres(self) -> None:
        stop_postgres(self.stack)

    def start_postgres(self) -> None:
        self.stack.start_postgres()


@pytest.fixture(scope="module")
def sink() -> Iterator[SinkStack]:
    """Tansu + PostgreSQL + a cdr-sink process (``SB_TRANSIENT_RETRY_S`` = :data:`TRANSIENT_RETRY_S`)."""
    stack = _new_stack("sb-sink-")
    process: subprocess.Popen[bytes] | None = None
    try:
        stack.start_kafka()
        stack.start_postgres()
        stack.migrate()
        env = {**os.environ, **stack.config.service_env(), "SB_TRANSIENT_RETRY_S": str(TRANSIENT_RETRY_S)}
        stack.logs.mkdir(parents=True, exist_ok=True)
        with open(stack.logs / "cdr-sink.log", "ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "switchboard_cdr_sink"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=REPO,
                start_new_session=True,
            )
        running = SinkStack(stack, process)
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, running.log()[-3000:]
            with contextlib.suppress(httpx.HTTPError):
                if running.ready()[0] == 200:
                    break
            assert time.monotonic() < deadline, "cdr-sink not ready within 60 s:\n" + running.log()[-3000:]
            time.sleep(0.2)
        yield running
    finally:
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(5)
        stack.down()
        if os.environ.get("SB_KEEP_STACK") != "1":
            shutil.rmtree(stack.root, ignore_errors=True)


@pytest.fixture
async def cdrs(postgres_server) -> AsyncIterator[asyncpg.Connection]:
    """A connection to the test database, its ``cdrs`` table emptied for this test."""
    conn = await asyncpg.connect(postgres_server.database_url)
    await conn.execute("TRUNCATE cdrs, cdr_calls")
    yield conn
    await conn.close()


@pytest.fixture
async def engine(postgres_server, cdrs) -> AsyncIterator[AsyncEngine]:
    """The SQLAlchemy engine the sink itself would build for that database."""
    engine = create_async_engine(CdrSinkSettings(database_url=postgres_server.database_url).async_database_url)
    yield engine
    await engine.dispose()
