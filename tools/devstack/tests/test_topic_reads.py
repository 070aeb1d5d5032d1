"""Reading a topic and a group's lag without joining a group, on a real broker (Tansu)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from aiokafka import AIOKafkaProducer

from switchboard.kafka import group_lag, partitions_of
from switchboard.topics import Topic
from switchboard_devstack.stack import StackConfig
from switchboard_devstack.testing import read_topic, tansu_process

pytestmark = pytest.mark.integration


@pytest.fixture
def broker() -> Iterator[StackConfig]:
    with tansu_process() as config:
        yield config


async def test_partitions_records_and_lag_without_a_group(broker: StackConfig) -> None:
    config = broker
    bootstrap, topic = config.kafka_bootstrap, Topic.CDRS.value
    assert len(await partitions_of(bootstrap, topic)) == config.partitions
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for i in range(5):
            await producer.send_and_wait(topic, b"v%d" % i, key=b"k%d" % i)
    finally:
        await producer.stop()
    records = await read_topic(bootstrap, topic, idle_s=0.5)
    assert sorted(r.value for r in records) == [b"v%d" % i for i in range(5)]
    assert [r.value for r in await read_topic(bootstrap, topic, key=b"k3", idle_s=0.5)] == [b"v3"]
    assert await read_topic(bootstrap, "no.such.topic", idle_s=0.1) == []
    assert await group_lag(bootstrap, "nobody-read-it", topic) == 5  # never committed: all of it
