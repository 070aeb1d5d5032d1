"""Which infrastructure a test session uses (``SB_TEST_INFRA``), and a stack over containers'
endpoints: the choice is made here with a stand-in for the Docker ping, since this machine has no
engine; the containers themselves start only where one exists."""

from __future__ import annotations

from pathlib import Path

import pytest

from switchboard_devstack import infra, stack
from switchboard_devstack.stack import Stack, StackConfig


def engine_at(address: str | None):  # type: ignore[no-untyped-def]
    return lambda: address


@pytest.mark.parametrize(
    ("setting", "engine", "kind"),
    [
        ("auto", None, "local"),
        ("auto", "unix://var/run/docker.sock", "containers"),
        ("", "tcp://127.0.0.1:2375", "containers"),
        ("local", "unix://var/run/docker.sock", "local"),  # asked for: the engine is not even asked
        ("containers", "unix://var/run/docker.sock", "containers"),
        (" Containers ", "unix://var/run/docker.sock", "containers"),
    ],
)
def test_the_choice_follows_the_setting_and_the_engine(setting: str, engine: str | None, kind: str) -> None:
    choice = infra.choose(setting, engine=engine_at(engine))
    assert choice.kind == kind
    header = choice.header()
    assert header.startswith("infrastructure: ")
    assert ("Apache Kafka" in header) == (kind == "containers") and ("Tansu" in header) == (kind == "local")


def test_containers_without_an_engine_and_unknown_values_are_refused() -> None:
    with pytest.raises(infra.NoDockerEngine, match="no Docker engine answers"):
        infra.choose("containers", engine=engine_at(None))
    with pytest.raises(ValueError, match="auto, local or containers"):
        infra.choose("docker", engine=engine_at(None))


def test_the_setting_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(infra.SETTING, "local")
    assert infra.choose(engine=engine_at("unix://var/run/docker.sock")).kind == "local"
    monkeypatch.delenv(infra.SETTING)
    assert infra.choose(engine=engine_at("unix://var/run/docker.sock")).kind == "containers"


def test_a_stack_over_containers_starts_only_the_services(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ends = infra.Endpoints("127.0.0.1:32801", "redis://127.0.0.1:32802/0", "postgresql://u:p@127.0.0.1:32803/db")
    config = StackConfig.ephemeral(tmp_path, external=ends)
    assert (config.kafka_bootstrap, config.redis_url, config.database_url) == (
        "127.0.0.1:32801",
        "redis://127.0.0.1:32802/0",
        "postgresql://u:p@127.0.0.1:32803/db",
    )
    env = config.service_env()
    assert env["SB_KAFKA_BOOTSTRAP"] == "127.0.0.1:32801" and env["SB_DATABASE_URL"] == ends.database_url
    did: list[str] = []
    for step in ("start_kafka", "start_redis", "start_postgres", "migrate", "mint_local_key", "start_services"):
        monkeypatch.setattr(Stack, step, lambda self, step=step: did.append(step))

    async def topics(bootstrap: str, partitions: int) -> None:
        did.append(f"topics on {bootstrap}")

    monkeypatch.setattr(stack, "create_topics", topics)
    Stack(config).up()
    assert did == ["topics on 127.0.0.1:32801", "migrate", "mint_local_key", "start_services"]


def test_the_fixtures_keep_apart_from_the_stacks_data() -> None:
    ends = infra.Endpoints(
        "127.0.0.1:32801", "redis://127.0.0.1:32802/0", "postgresql://u:p@127.0.0.1:32803/switchboard"
    )
    mine = infra.for_fixtures(ends)
    assert mine.redis_url == "redis://127.0.0.1:32802/1"
    assert mine.database_url == "postgresql://u:p@127.0.0.1:32803/switchboard_fixtures"
    assert mine.kafka_bootstrap == ends.kafka_bootstrap


async def test_the_fixtures_database_is_created_once(postgres_server: StackConfig) -> None:
    import asyncpg

    server = postgres_server.database_url.rsplit("/", 1)[0]
    url = f"{server}/sb_fixture_probe"
    await infra.create_database(url)
    await infra.create_database(url)  # already there: nothing to do
    conn = await asyncpg.connect(url)
    try:
        assert await conn.fetchval("SELECT current_database()") == "sb_fixture_probe"
    finally:
        await conn.close()
