"""Read a whole topic up to its current end (the demo's summary, benchmarks and tests), or
some partitions over a range of offsets (the changelog's restore).

The end is the fetch high-watermark of each partition (Tansu's ``end_offsets`` is wrong when
the last batch holds several records), so reading stops once every partition's position
has reached the high-watermark reported by the fetches themselves.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

import orjson
from kafka import KafkaConsumer, TopicPartition

from insight_stream.replay.compare import Published


def read_topic(
    bootstrap: str | list[str], topic: str, timeout_s: float = 30.0, **opts: Any
) -> list[Any]:
    """All records of ``topic`` (every partition, offset order within a partition)."""
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        group_id=None,
        max_poll_records=10_000,
        fetch_max_wait_ms=50,
        **opts,
    )
    try:
        deadline = time.monotonic() + timeout_s
        parts = None
        while not parts:
            parts = consumer.partitions_for_topic(topic)
            if not parts:
                if time.monotonic() > deadline:
                    return []
                time.sleep(0.1)
        tps = [TopicPartition(topic, p) for p in sorted(parts)]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        out: list[Any] = []
        while time.monotonic() < deadline:
            for recs in consumer.poll(timeout_ms=200).values():
                out.extend(recs)
            hws = [consumer.highwater(tp) for tp in tps]
            if all(hw is not None for hw in hws) and all(
                consumer.position(tp) >= hw for tp, hw in zip(tps, hws, strict=True)
            ):
                return out
        raise TimeoutError(f"reading {topic} did not reach its end within {timeout_s}s")
    finally:
        consumer.close()


def latest_by_key(records: list[Any]) -> dict[str, dict[str, Any] | None]:
    """Compacted view: last value per key (None = tombstone), decoded from JSON."""
    out: dict[str, dict[str, Any] | None] = {}
    for rec in records:
        out[rec.key.decode()] = None if rec.value is None else orjson.loads(rec.value)
    return out


def read_published(bootstrap: str | list[str], topics: Iterable[str]) -> Published:
    """Everything on the output ``topics`` (profiles, alerts, DLQ), as a consumer sees it."""
    out = Published()
    for topic in topics:
        for rec in read_topic(bootstrap, topic):
            out.add(topic, rec.key, rec.value, rec.headers)
    return out


def partition_ends(consumer: KafkaConsumer, tps: list[TopicPartition]) -> dict[int, int]:
    """The partitions' ends from fetch high watermarks (Tansu's end_offsets is unreliable)."""
    consumer.assign(tps)
    deadline = time.monotonic() + 10
    while True:
        ends = {tp.partition: consumer.highwater(tp) for tp in tps}
        if all(e is not None for e in ends.values()) or time.monotonic() > deadline:
            return {p: e or 0 for p, e in ends.items()}
        consumer.seek_to_beginning(*tps)
        consumer.poll(timeout_ms=100, max_records=1)


def read_range(
    consumer: KafkaConsumer,
    tps: list[TopicPartition],
    starts: Mapping[int, int] | None = None,
    ends: Mapping[int, int] | None = None,
) -> dict[int, list[Any]]:
    """Records of ``tps`` from ``starts`` (default: their beginning) up to ``ends`` (default:
    their high watermarks as the read goes), fetched together."""
    starts = starts or {}
    out: dict[int, list[Any]] = {tp.partition: [] for tp in tps}
    live = [tp for tp in tps if ends is None or ends[tp.partition] > starts.get(tp.partition, 0)]
    if not live:
        return out
    consumer.assign(live)
    consumer.seek_to_beginning(*live)
    for tp in live:
        if tp.partition in starts:
            consumer.seek(tp, starts[tp.partition])
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        for tp, recs in consumer.poll(timeout_ms=100).items():
            out[tp.partition].extend(recs)
        reach = {tp: consumer.highwater(tp) if ends is None else ends[tp.partition] for tp in live}
        if all(end is not None and consumer.position(tp) >= end for tp, end in reach.items()):
            if ends is not None:
                for p, recs in out.items():
                    out[p] = [r for r in recs if r.offset < ends[p]]
            return out
    raise TimeoutError(f"{tps[0].topic}: read of {sorted(out)} stalled")
