"""Replays split input exactly as kafka-python's default partitioner does."""

from __future__ import annotations

import random

from kafka.partitioner.default import murmur2 as kafka_murmur2

from insight_stream.processor.partitioning import murmur2, partition_for


def test_murmur2_matches_the_kafka_client_on_random_keys() -> None:
    rnd = random.Random(1)
    keys = [b"", b"a", b"ab", b"abc", "ü-user".encode()]
    keys += [rnd.randbytes(rnd.randint(0, 40)) for _ in range(3000)]
    for key in keys:
        assert murmur2(key) == kafka_murmur2(key), key


def test_partition_is_positive_hash_modulo_count() -> None:
    for n in (1, 4, 6, 12):
        for i in range(200):
            uid = f"u{i:05d}"
            assert partition_for(uid, n) == (kafka_murmur2(uid.encode()) & 0x7FFFFFFF) % n
