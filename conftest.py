"""Fixtures for every test in the workspace: throwaway Redis, PostgreSQL and Tansu processes started
by the devstack's own code on free ports, and the :class:`~switchboard_devstack.testing.Bus` that
runs one handler test on the in-memory broker and (marked ``integration``) on Tansu.

Where a Docker engine answers (or ``SB_TEST_INFRA=containers``), Redis, PostgreSQL and the whole
stack's broker are containers instead, Apache Kafka among them (:mod:`switchboard_devstack.infra`);
the session header says which. The per-test broker of :class:`Bus` stays a fresh Tansu: each such
test needs empty topics of its own, which one shared Kafka does not give."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest
from redis.asyncio import Redis

from switchboard_devstack import infra
from switchboard_devstack.stack import StackConfig
from switchboard_devstack.testing import Bus, postgres_process, redis_process, tansu_process


def pytest_report_header(config: pytest.Config) -> str:
    return infra.chosen().header()


@pytest.fixture(scope="session")
def containers() -> Iterator[infra.Endpoints | None]:
    """Kafka, Redis and PostgreSQL containers for the session when the choice is ``containers``
    (started on first use), else None."""
    if infra.chosen().kind != "containers":
        yield None
        return
    with infra.containers() as endpoints:
        yield endpoints


@pytest.fixture(scope="session")
def redis_server(containers: infra.Endpoints | None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackConfig]:
    """One Redis for the session (``.redis_url``): a local ``redis-server``, or the container."""
    if containers is not None:
        yield StackConfig(root=tmp_path_factory.mktemp("redis"), external=infra.for_fixtures(containers))
        return
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
def postgres_server(
    containers: infra.Endpoints | None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[StackConfig]:
    """One PostgreSQL for the session, migrated (``.database_url``): local, or the container."""
    if containers is not None:
        from switchboard_cdr_sink.migrate import upgrade

        config = StackConfig(root=tmp_path_factory.mktemp("postgres"), external=infra.for_fixtures(containers))
        asyncio.run(infra.create_database(config.database_url))
        upgrade(config.database_url)
        yield config
        return
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
