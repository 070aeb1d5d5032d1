"""Fixtures for every test in the workspace: throwaway Redis, PostgreSQL and Tansu processes started
by the devstack's own code on free ports, and the :class:`~switchboard_devstack.testing.Bus` that
runs one handler test on the in-memory broker and (marked ``integration``) on Tansu."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from redis.asyncio import Redis

from switchboard_devstack.stack import StackConfig
from switchboard_devstack.testing import Bus, postgres_process, redis_process, tansu_process


@pytest.fixture(scope="session")
def redis_server() -> Iterator[StackConfig]:
    """One ``redis-server`` for the session (``.redis_url``)."""
    with redis_process() as config:
        yield config


@pytest.fixture
async def redis(redis_server: StackConfig) -> AsyncIterator[Redis]:
    """A client of the session's Redis, emptied for this test."""
    client = Redis.from_url(redis_server.redis_url)
    await client.flushdb()
    yield client
    await client.aclose()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[StackConfig]:
    """One PostgreSQL for the session, migrated (``.database_url``)."""
    with postgres_process() as config:
        yield config


@pytest.fixture(params=["memory", pytest.param("tansu", marks=pytest.mark.integration)])
def bus(request: pytest.FixtureRequest) -> Iterator[Bus]:
    """The same test on FastStream's in-memory broker, then on a fresh Tansu of its own."""
    if request.param == "memory":
        yield Bus("memory")
        return
    with tansu_process() as config:
        yield Bus("tansu", config.kafka_bootstrap)


@pytest.fixture
def memory_bus() -> Bus:
    """The in-memory broker only (where offsets and commits play no part)."""
    return Bus("memory")
