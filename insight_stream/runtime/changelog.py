"""State changelog: every changed user's state goes to ``<group>.state-changelog`` (compacted,
partitioned like the input) within the commit cycle, so a partition that moves to an instance
without its local file, or an instance that lost its disk, is restored from Kafka instead of
being rebuilt from input that retention may already have deleted.

Per commit cycle *c*, in this order:

1. one record per changed user, key ``user_id``, on the user's input partition (null value:
   erased), and the shared models in chunks on the writer's lowest partition (key
   ``\\x00shared:<chunk>``: one key per chunk, so compaction keeps them all), every record
   with headers ``writer`` and ``cycle``;
2. flush;
3. one *marker* per owned partition (key ``\\x00checkpoint``): the cycle, the writer, the
   input offsets and applied counts of every partition the writer owns, and the writer's
   state-bound engine settings (a restore under other values is refused);
4. flush, then the local checkpoint (which records *c*) and the group commit.

A marker is written only once the whole cycle's data is acknowledged. Restoring a partition
takes, from its changelog partition, the last value of every user written before its last
marker, and the offsets in that marker. The local SQLite file is a cache: it is used when
the partition's last marker is the one this instance wrote at the cycle the file holds.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
from kafka import KafkaConsumer, TopicPartition

from insight_stream.processor.engine_file import changed_state_settings
from insight_stream.runtime.checkpoint import STATE_SETTINGS_ADVICE
from insight_stream.runtime.config import RuntimeConfig
from insight_stream.runtime.sink import KafkaSink

log = logging.getLogger(__name__)

MARKER = b"\x00checkpoint"
SHARED = b"\x00shared"
CHUNK = 256 << 10
Key = tuple[str, int]


class StateSettingsError(RuntimeError):
    """The changelog's state was built under other state-bound engine settings."""


@dataclass
class Restored:
    """State of some partitions read back from the changelog."""

    users: dict[str, tuple[int, bytes]] = field(default_factory=dict)
    offsets: dict[Key, int] = field(default_factory=dict)
    applied: dict[Key, int] = field(default_factory=dict)
    shared: bytes | None = None
    records: int = 0
    seconds: float = 0.0
    partitions: list[int] = field(default_factory=list)


class Changelog:
    """Writes the changelog through the output sink and reads it back with its own consumer."""

    def __init__(
        self,
        cfg: RuntimeConfig,
        sink: KafkaSink,
        writer: str,
        settings: Mapping[str, Any] | None = None,
    ) -> None:
        """``settings``: the writer's state-bound engine settings, carried by every marker so
        a restore can refuse state built under other values."""
        self.cfg, self.sink, self.writer = cfg, sink, writer
        self.settings = dict(settings or {})
        self.topic = cfg.changelog_topic

    # -- writing ----------------------------------------------------------------------
    def write(
        self,
        users: Mapping[str, tuple[int, bytes | None]],
        shared: bytes,
        owned: Iterable[int],
        cycle: int,
    ) -> None:
        """Step 1: changed users and the shared models of ``cycle`` (not yet flushed)."""
        headers = [("writer", self.writer.encode()), ("cycle", str(cycle).encode())]
        send, topic = self.sink.send, self.topic
        for uid, (part, blob) in users.items():
            if part >= 0:
                send(topic, uid.encode(), blob, headers, part)
        home = min(owned, default=None)
        if home is None:
            return
        chunks = [shared[i : i + CHUNK] for i in range(0, len(shared), CHUNK)] or [b""]
        for i, chunk in enumerate(chunks):
            meta = [("chunk", str(i).encode()), ("chunks", str(len(chunks)).encode())]
            send(topic, SHARED + b":%d" % i, chunk, headers + meta, home)

    def mark(
        self,
        owned: Iterable[int],
        cycle: int,
        offsets: Mapping[Key, int],
        applied: Mapping[Key, int],
    ) -> None:
        """Step 3: the markers that make ``cycle`` restorable (after its data is flushed)."""
        parts = sorted(owned)
        value = orjson.dumps(
            {
                "writer": self.writer,
                "cycle": cycle,
                "shared_partition": parts[0] if parts else None,
                "http": self.cfg.advertised_http,  # where queries for these partitions go
                "offsets": [[t, p, o] for (t, p), o in sorted(offsets.items())],
                "applied": [[t, p, n] for (t, p), n in sorted(applied.items())],
                "engine_settings": self.settings,
            }
        )
        for part in parts:
            self.sink.send(self.topic, MARKER, value, None, part)

    # -- reading ----------------------------------------------------------------------
    def check_settings(self, markers: Mapping[int, dict[str, Any]], parts: Iterable[int]) -> None:
        """Refuse to restore ``parts`` whose last marker was written under other state-bound
        engine settings than ours (markers without settings predate them: accepted)."""
        parts = sorted(parts)
        changed = sorted(
            {
                change
                for p in parts
                for change in changed_state_settings(
                    markers[p].get("engine_settings") or {}, self.settings
                )
            }
        )
        if changed:
            raise StateSettingsError(
                f"{self.topic} holds state of partitions {parts} built with other engine "
                f"settings that change what saved state means: {'; '.join(changed)}. "
                f"{STATE_SETTINGS_ADVICE}"
            )

    def _consumer(self) -> KafkaConsumer:
        return KafkaConsumer(
            **self.cfg.kafka_common(),
            client_id=f"{self.cfg.client_id}-restore",
            group_id=None,
            enable_auto_commit=False,
            max_poll_records=50_000,
            fetch_max_bytes=64 << 20,
            max_partition_fetch_bytes=16 << 20,
            fetch_max_wait_ms=50,
        )

    def last_markers(self, partitions: Iterable[int]) -> dict[int, dict[str, Any]]:
        """The last marker of each partition that has one (reads only each partition's tail)."""
        out: dict[int, dict[str, Any]] = {}
        parts = sorted(partitions)
        if not parts:
            return out
        consumer = self._consumer()
        try:
            for part in parts:
                marker = self._last_marker(consumer, part)
                if marker is not None:
                    out[part] = marker
        finally:
            consumer.close()
        return out

    def _last_marker(self, consumer: KafkaConsumer, part: int) -> dict[str, Any] | None:
        tp = TopicPartition(self.topic, part)
        consumer.assign([tp])
        end = _end(consumer, tp)
        back = 16
        while end > 0:
            start = max(0, end - back)
            records = _read(consumer, tp, start, end)
            for rec in reversed(records):
                if rec.key == MARKER:
                    return orjson.loads(rec.value)
            if start == 0:
                return None
            back *= 8
        return None

    def restore(self, partitions: Iterable[int], want_shared: bool) -> Restored:
        """Users, offsets and (if asked) shared models of ``partitions`` as of their last marker."""
        t0 = time.perf_counter()
        out = Restored()
        consumer = self._consumer()
        markers: dict[int, dict[str, Any]] = {}
        try:
            by_part = _read_all(consumer, [TopicPartition(self.topic, p) for p in partitions])
            for part, records in sorted(by_part.items()):
                out.records += len(records)
                cut = max((i for i, r in enumerate(records) if r.key == MARKER), default=None)
                if cut is None:
                    continue
                markers[part] = marker = orjson.loads(records[cut].value)
                out.partitions.append(part)
                latest: dict[bytes, bytes | None] = {}
                for rec in records[:cut]:
                    key = rec.key
                    if key is not None and key != MARKER and not key.startswith(SHARED):
                        latest[key] = rec.value
                for key, blob in latest.items():
                    if blob is not None:
                        out.users[key.decode()] = (part, blob)
                for t, p, o in marker["offsets"]:
                    if p == part:
                        out.offsets[(t, p)] = o
                for t, p, n in marker["applied"]:
                    if p == part:
                        out.applied[(t, p)] = n
            if want_shared and markers:
                newest = max(markers.values(), key=lambda m: m["cycle"])
                out.shared = self._shared(consumer, newest)
        finally:
            consumer.close()
        out.seconds = time.perf_counter() - t0
        return out

    def _shared(self, consumer: KafkaConsumer, marker: dict[str, Any]) -> bytes | None:
        part = marker.get("shared_partition")
        if part is None:
            return None
        tp = TopicPartition(self.topic, part)
        consumer.assign([tp])
        want = (marker["writer"].encode(), str(marker["cycle"]).encode())
        chunks: dict[int, bytes] = {}
        total = 0
        for rec in _read(consumer, tp, 0, _end(consumer, tp)):
            if rec.key is None or not rec.key.startswith(SHARED):
                continue
            h = dict(rec.headers or [])
            if (h.get("writer"), h.get("cycle")) == want:
                chunks[int(h["chunk"])] = rec.value
                total = int(h["chunks"])
        if total == 0 or len(chunks) != total:
            log.warning("changelog: shared models of cycle %s incomplete", marker["cycle"])
            return None
        return b"".join(chunks[i] for i in range(total))


def _end(consumer: KafkaConsumer, tp: TopicPartition) -> int:
    """The partition's end from a fetch high watermark (Tansu's end_offsets is unreliable)."""
    consumer.seek_to_beginning(tp)
    deadline = time.monotonic() + 10
    while consumer.highwater(tp) is None and time.monotonic() < deadline:
        consumer.poll(timeout_ms=100, max_records=1)
        consumer.seek_to_beginning(tp)
    return consumer.highwater(tp) or 0


def _read_all(consumer: KafkaConsumer, tps: list[TopicPartition]) -> dict[int, list[Any]]:
    """Every record of ``tps`` up to their current ends, fetched together."""
    out: dict[int, list[Any]] = {tp.partition: [] for tp in tps}
    if not tps:
        return out
    consumer.assign(tps)
    consumer.seek_to_beginning(*tps)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        for tp, recs in consumer.poll(timeout_ms=100).items():
            out[tp.partition].extend(recs)
        hws = {tp: consumer.highwater(tp) for tp in tps}
        if all(hw is not None and consumer.position(tp) >= hw for tp, hw in hws.items()):
            return out
    raise TimeoutError(f"changelog {tps[0].topic}: restore read stalled")


def _read(consumer: KafkaConsumer, tp: TopicPartition, start: int, end: int) -> list[Any]:
    """Records of ``tp`` in ``[start, end)``."""
    out: list[Any] = []
    if end <= start:
        return out
    consumer.seek(tp, start)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for recs in consumer.poll(timeout_ms=200).values():
            out.extend(r for r in recs if r.offset < end)
        if consumer.position(tp) >= end:
            return out
    raise TimeoutError(f"changelog {tp.topic}[{tp.partition}]: read stalled at {len(out)} records")
