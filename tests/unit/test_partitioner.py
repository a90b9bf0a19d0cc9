"""Output keys land on the partition the Java client's default partitioner picks, so
a key's events stay together whoever produced them (the producer caches key hashes)."""

from __future__ import annotations

import pytest
from aiokafka.partitioner import murmur2 as aiokafka_murmur2
from hypothesis import given
from hypothesis import strategies as st

from services.core.kafka import CachedKeyPartitioner, murmur2

# Partitions (out of 1000) that Kafka's Java client computes for these keys.
JAVA = [(b"", 681), (b"a", 524), (b"ab", 434), (b"abc", 107), (b"123456789", 566),
        (b"\x00 ", 742)]


@pytest.mark.parametrize(("key", "partition"), JAVA)
def test_matches_the_java_client(key: bytes, partition: int) -> None:
    partitions = list(range(1000))
    partitioner = CachedKeyPartitioner()
    assert partitioner(key, partitions, partitions) == partition
    assert partitioner(key, partitions, partitions) == partition  # cached answer


@given(st.binary(max_size=80))
def test_murmur2_is_the_java_clients_hash(key: bytes) -> None:
    """Every length (whole 4-byte words and 0-3 tail bytes) and byte value, against
    aiokafka's byte-by-byte port of the Java code."""
    assert murmur2(key) == aiokafka_murmur2(key)


def test_a_cached_hash_follows_a_changed_partition_count() -> None:
    partitioner = CachedKeyPartitioner(cache_size=4)
    key = "conv-亲-000042".encode()
    few = partitioner(key, [0, 1, 2], [0, 1, 2])
    many = partitioner(key, list(range(1000)), list(range(1000)))
    assert few in (0, 1, 2)
    assert many == CachedKeyPartitioner()(key, list(range(1000)), [])
    keys = [f"order-{i}".encode() for i in range(50)]  # evicts the small cache many times
    assert [partitioner(k, [0, 1, 2, 3], []) for k in keys] == [
        CachedKeyPartitioner()(k, [0, 1, 2, 3], []) for k in keys]


def test_no_key_picks_an_available_partition() -> None:
    partitioner = CachedKeyPartitioner()
    assert {partitioner(None, [0, 1, 2, 3], [2]) for _ in range(20)} == {2}
