"""KeyedBatches against a real Tansu: every record lands once, on the partition Kafka's default
partitioner gives its key (where one ``publish`` per record puts it), in order per key."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.partitioner import DefaultPartitioner

from switchboard.kafka import KeyedBatches, make_broker
from switchboard.settings import ServiceSettings
from switchboard.topics import Topic
from switchboard_devstack.stack import StackConfig
from switchboard_devstack.testing import tansu_process

pytestmark = pytest.mark.integration


@pytest.fixture
def tansu() -> Iterator[StackConfig]:
    with tansu_process() as config:
        yield config


async def test_each_record_lands_once_on_its_keys_partition_in_order(tansu: StackConfig):
    topic = Topic.CDRS.value
    broker = make_broker(ServiceSettings(kafka_bootstrap=tansu.kafka_bootstrap), client_id="test")
    await broker.connect()
    try:
        batches = KeyedBatches(broker, topic, max_bytes=4096)  # small: many chunks per partition
        records = [(f"call-{i % 37}".encode(), f"{i:05d}".encode() + b"x" * 300) for i in range(1000)]
        await batches.publish(records)
        partitions = await batches.partitions()
    finally:
        await broker.stop()
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=tansu.kafka_bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    try:
        seen: list[tuple[int, bytes, bytes]] = []
        while len(seen) < len(records):
            batch = await consumer.getmany(timeout_ms=2000)
            assert batch, f"only {len(seen)} of {len(records)} records arrived"
            seen += [(r.partition, r.key, r.value) for rs in batch.values() for r in rs]
    finally:
        await consumer.stop()
    assert len(partitions) == 2
    assert sorted(value for _, _, value in seen) == sorted(value for _, value in records)  # each once
    partitioner = DefaultPartitioner()
    assert all(partition == partitioner(key, partitions, partitions) for partition, key, _ in seen)
    for key in {key for key, _ in records}:
        assert [v for _, k, v in seen if k == key] == [v for k, v in records if k == key]  # in order
