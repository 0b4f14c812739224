"""Feed a simulated shop into the input topics, keyed by user_id, at a target rate or flat out.

Used by ``insight-stream produce``, the demo and the Kafka benchmark. It returns the end
offset of every partition it wrote, which is how the demo and tests know when the engine
has caught up (Tansu's ``end_offsets`` is unreliable, the producer's acks are not).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson
from kafka import KafkaProducer

from insight_stream.runtime.sink import close_producer

Key = tuple[str, int]


@dataclass
class FeedResult:
    """What was written: records per topic and the end offset per partition."""

    records: dict[str, int] = field(default_factory=dict)
    end_offsets: dict[Key, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.records.values())


def user_key(raw: bytes) -> bytes | None:
    """The partitioning key of a raw event: its user_id, or None when unparseable.

    >>> user_key(b'{"user_id": "u7", "type": "login"}'), user_key(b"junk")
    (b'u7', None)
    """
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    uid = doc.get("user_id") if isinstance(doc, dict) else None
    return uid.encode() if isinstance(uid, str) and uid else None


def fast_producer(bootstrap: str | list[str], **extra: Any) -> KafkaProducer:
    """A producer tuned for bulk loading (big batches, acks=1, no idempotence overhead)."""
    opts: dict[str, Any] = {
        "bootstrap_servers": bootstrap,
        "acks": 1,
        "enable_idempotence": False,
        "linger_ms": 20,
        "batch_size": 1 << 20,
        "max_request_size": 8 << 20,
        "max_block_ms": 30_000,
    }
    opts.update(extra)
    return KafkaProducer(**opts)


@contextmanager
def closing_producer(producer: KafkaProducer) -> Iterator[KafkaProducer]:
    """Close ``producer`` on exit: flush everything normally, give up within a second on error.

    An interrupt (Ctrl-C reaches an embedded broker too) must not leave ``close()`` retrying
    undeliverable batches for the producer's whole delivery timeout.
    """
    try:
        yield producer
    except BaseException:
        close_producer(producer, 1)
        raise
    producer.close()


def feed(
    producer: KafkaProducer,
    events: Iterable[tuple[str, bytes]],
    topic_map: dict[str, str],
    rate: float | None = None,
    on_progress: Callable[[int], None] | None = None,
    chunk: int = 20_000,
) -> FeedResult:
    """Send ``(kind, raw)`` events to ``topic_map[kind]``; ``rate`` events/s or None = flat out."""
    result = FeedResult()
    pending: list[Any] = []
    start = time.monotonic()
    send = producer.send
    for sent, (kind, raw) in enumerate(events, 1):
        topic = topic_map[kind]
        pending.append(send(topic, value=raw, key=user_key(raw)))
        result.records[topic] = result.records.get(topic, 0) + 1
        if rate:
            ahead = sent / rate - (time.monotonic() - start)
            if ahead > 0.005:
                time.sleep(ahead)
        if len(pending) >= chunk:
            _settle(producer, pending, result)
            if on_progress is not None:
                on_progress(chunk)
            pending = []
    n = len(pending)
    _settle(producer, pending, result)
    if on_progress is not None and n:
        on_progress(n)
    result.seconds = time.monotonic() - start
    return result


def _settle(producer: KafkaProducer, futures: list[Any], result: FeedResult) -> None:
    """Flush and fold acknowledged offsets into end offsets; raises on a failed send."""
    producer.flush()
    ends = result.end_offsets
    for fut in futures:
        md = fut.get(timeout=30)
        key = (md.topic, md.partition)
        if md.offset + 1 > ends.get(key, 0):
            ends[key] = md.offset + 1
