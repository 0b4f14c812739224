"""Which input partition a user's events live in: Kafka's default partitioner, without Kafka.

File replays split their input the way the producer splits it into partitions, so that the
drive loop merges the same per-partition streams in both worlds (ties and late events
included). Murmur2 as in the Java client's ``Utils.murmur2`` (positive hash modulo the
partition count), written here so that the engine layer never imports a Kafka client.
"""

from __future__ import annotations

from functools import lru_cache

_M = 0x5BD1E995
_MASK = 0xFFFFFFFF


def murmur2(data: bytes) -> int:
    """32-bit Murmur2 of ``data`` with Kafka's seed.

    >>> murmur2(b"u00042")
    3371925432
    """
    length = len(data)
    h = (0x9747B28C ^ length) & _MASK
    for i in range(0, length - length % 4, 4):
        k = int.from_bytes(data[i : i + 4], "little")
        k = (k * _M) & _MASK
        k ^= k >> 24
        k = (k * _M) & _MASK
        h = ((h * _M) & _MASK) ^ k
    tail = length % 4
    base = length - tail
    if tail >= 3:
        h ^= data[base + 2] << 16
    if tail >= 2:
        h ^= data[base + 1] << 8
    if tail >= 1:
        h ^= data[base]
        h = (h * _M) & _MASK
    h ^= h >> 13
    h = (h * _M) & _MASK
    h ^= h >> 15
    return h


@lru_cache(maxsize=1 << 20)
def partition_for(key: str, partitions: int) -> int:
    """The partition the default Kafka producer writes ``key`` to (cached per key).

    >>> partition_for("u00042", 4), partition_for("u00042", 6)
    (0, 4)
    """
    return (murmur2(key.encode()) & 0x7FFFFFFF) % partitions
