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

Snapshots (runtime/snapshots.py) shorten the read: when one is due, step 1 ends with every
user of the partition as of this cycle, packed into chunks; the markers name it, and a
restore starts at its first record instead of the partition's start.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson
from kafka import KafkaConsumer, TopicPartition

from insight_stream.processor.engine_file import changed_state_settings
from insight_stream.runtime.checkpoint import STATE_SETTINGS_ADVICE
from insight_stream.runtime.config import RuntimeConfig
from insight_stream.runtime.reader import partition_ends, read_range
from insight_stream.runtime.repair import repairs, user_ids
from insight_stream.runtime.sink import KafkaSink
from insight_stream.runtime.snapshots import SNAPSHOT, Schedule, chunks_of, decode, named_ref

log = logging.getLogger(__name__)

MARKER = b"\x00checkpoint"
SHARED = b"\x00shared"
CHUNK = 256 << 10
Key = tuple[str, int]


class StoredState(Protocol):
    """The writer's local copy of its users as of its last cycle (``CheckpointStore``)."""

    def load_users(
        self, partitions: Iterable[int], include_unknown: bool = True
    ) -> Iterable[tuple[str, int, bytes]]: ...

    def load_blobs(self, uids: Iterable[str]) -> dict[str, bytes]: ...


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
    since: dict[int, int] = field(default_factory=dict)
    """Per partition: per-user records read after its snapshot (all of them without one)."""


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
        self.schedule = Schedule(cfg.changelog_snapshot_records)
        self.unmarked: dict[int, set[bytes]] = {}
        """Keys a dead writer left after the last marker of partitions taken over."""

    # -- writing ----------------------------------------------------------------------
    def write(
        self,
        users: Mapping[str, tuple[int, bytes | None]],
        shared: bytes,
        owned: Iterable[int],
        cycle: int,
        stored: StoredState | None = None,
    ) -> None:
        """Step 1: changed users, the snapshots due (from ``stored``, the users of the given
        partitions as of the last cycle, overlaid by ``users``) and the shared models of
        ``cycle`` (not flushed). A snapshot follows its cycle's per-user records, so a
        restore from its first record skips them."""
        owned = sorted(owned)
        headers = [("writer", self.writer.encode()), ("cycle", str(cycle).encode())]
        send, topic = self.sink.send, self.topic
        unmarked = {p: keys for p, keys in self.unmarked.items() if p in owned}
        if unmarked and stored is not None:  # runtime/repair.py
            current = stored.load_blobs(user_ids(unmarked) - users.keys())
            for part, key, value in repairs(unmarked, users, current, self.schedule.refs):
                send(topic, key, value, headers, part)
            self.unmarked = {}
        since = self.schedule.since
        for uid, (part, blob) in users.items():
            if part >= 0:
                send(topic, uid.encode(), blob, headers, part)
                since[part] = since.get(part, 0) + 1
        if stored is not None:
            # an erasure rewrites its partition's snapshots at once (runtime/snapshots.py)
            erased = {p for p, blob in users.values() if blob is None and p >= 0}
            due = sorted({*self.schedule.due(owned), *self.schedule.holding(erased)} & {*owned})
            if due:
                self._snapshot(due, stored, users, erased, headers, cycle)
        home = min(owned, default=None)
        if home is None:
            return
        chunks = [shared[i : i + CHUNK] for i in range(0, len(shared), CHUNK)] or [b""]
        for i, chunk in enumerate(chunks):
            meta = [("chunk", str(i).encode()), ("chunks", str(len(chunks)).encode())]
            send(topic, SHARED + b":%d" % i, chunk, headers + meta, home)

    def _snapshot(
        self,
        due: list[int],
        stored: StoredState,
        changed: Mapping[str, tuple[int, bytes | None]],
        erased: set[int],
        headers: list[tuple[str, bytes]],
        cycle: int,
    ) -> None:
        """Every user of ``due`` as of this cycle (the last cycle's, overlaid by ``changed``)
        into the slot the markers do not name; stale chunk keys of that slot, and of both
        slots in a partition with an erasure, are tombstoned."""
        state: dict[int, dict[str, bytes]] = {p: {} for p in due}
        for uid, part, blob in stored.load_users(due, include_unknown=False):
            state[part][uid] = blob
        for uid, (part, blob) in changed.items():
            if part in state:
                if blob is None:
                    state[part].pop(uid, None)
                else:
                    state[part][uid] = blob
        for part, users in state.items():
            take = self.schedule.take(part, users, self.writer, cycle, part in erased, CHUNK)
            for key, value, meta in take:
                self.sink.send(self.topic, key, value, headers + meta, part, True)
        log.info(
            "changelog: snapshot of partitions %s (%d users) at cycle %d",
            ",".join(map(str, due)),
            sum(map(len, state.values())),
            cycle,
        )

    def mark(
        self,
        owned: Iterable[int],
        cycle: int,
        offsets: Mapping[Key, int],
        applied: Mapping[Key, int],
    ) -> None:
        """Step 3: the markers that make ``cycle`` restorable (after its data is flushed)."""
        parts = sorted(owned)
        sched = self.schedule
        for part, ref in sched.taking.items():  # its cycle's records are all acknowledged
            first = self.sink.first_offsets.pop((self.topic, part), None)
            if first is not None:
                sched.refs[part] = {**ref, "offset": first}
                sched.sizes[part] = ref["users"]
        sched.taking = {}
        value = orjson.dumps(
            {
                "writer": self.writer,
                "cycle": cycle,
                "shared_partition": parts[0] if parts else None,
                "http": self.cfg.advertised_http,  # where queries for these partitions go
                "offsets": [[t, p, o] for (t, p), o in sorted(offsets.items())],
                "applied": [[t, p, n] for (t, p), n in sorted(applied.items())],
                "engine_settings": self.settings,
                "snapshots": sched.marked(parts),
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

    def _consumer(self, tails: bool = False) -> KafkaConsumer:
        """``tails``: small fetches, for reading high watermarks and a few last records
        (a high watermark comes with a fetch from the partition's start)."""
        return KafkaConsumer(
            **self.cfg.kafka_common(),
            client_id=f"{self.cfg.client_id}-restore",
            group_id=None,
            enable_auto_commit=False,
            max_poll_records=50_000,
            fetch_max_bytes=(1 if tails else 64) << 20,
            max_partition_fetch_bytes=(256 << 10) if tails else (16 << 20),
            fetch_max_wait_ms=50,
        )

    def last_markers(self, partitions: Iterable[int]) -> dict[int, dict[str, Any]]:
        """The last marker of each partition that has one."""
        return self._tails(partitions)[0]

    def take_over(self, partitions: Iterable[int]) -> dict[int, dict[str, Any]]:
        """The last markers of newly owned partitions; the snapshots they name are carried
        by this writer's markers, and the keys after them are written again at its next
        cycle (runtime/repair.py)."""
        markers, after = self._tails(partitions)
        self.schedule.adopt(markers, {})
        self.unmarked.update({p: keys for p, keys in after.items() if keys})
        return markers

    def _tails(
        self, partitions: Iterable[int]
    ) -> tuple[dict[int, dict[str, Any]], dict[int, set[bytes]]]:
        """Per partition, its last marker and the keys after it (every key if it has none).
        Reads only the partitions' tails, all at once, further back where no marker was."""
        out: dict[int, dict[str, Any]] = {}
        after: dict[int, set[bytes]] = {}
        parts = sorted(partitions)
        if not parts:
            return out, after
        consumer = self._consumer(tails=True)
        try:
            ends = partition_ends(consumer, [TopicPartition(self.topic, p) for p in parts])
            back = 16
            todo = [p for p in parts if ends[p] > 0]
            while todo:
                starts = {p: max(0, ends[p] - back) for p in todo}
                got = read_range(
                    consumer, [TopicPartition(self.topic, p) for p in todo], starts, ends
                )
                for p in todo:
                    records = got[p]
                    cut = max((i for i, r in enumerate(records) if r.key == MARKER), default=-1)
                    after[p] = {r.key for r in records[cut + 1 :] if r.key is not None}
                    if cut >= 0:
                        out[p] = orjson.loads(records[cut].value)
                todo = [p for p in todo if p not in out and starts[p] > 0]
                back *= 8
        finally:
            consumer.close()
        return out, after

    def restore(
        self,
        partitions: Iterable[int],
        want_shared: bool,
        markers: Mapping[int, dict[str, Any]] | None = None,
    ) -> Restored:
        """Users, offsets and (if asked) shared models of ``partitions`` as of their last marker.

        ``markers``: their last markers, if just read; each partition is then read from the
        snapshot its marker names instead of from its start."""
        t0 = time.perf_counter()
        out = Restored()
        consumer = self._consumer()
        used: dict[int, dict[str, Any]] = {}
        parts = sorted(partitions)
        marked = markers or {}
        starts = {p: named_ref(marked[p], p) if p in marked else None for p in parts}
        try:
            by_part = read_range(
                consumer,
                [TopicPartition(self.topic, p) for p in parts],
                {p: ref["offset"] for p, ref in starts.items() if ref is not None},
            )
            for part, records in sorted(by_part.items()):
                out.records += len(records)
                got = self._partition(part, records, starts[part])
                if got is None:  # its snapshot was not usable: the whole partition
                    records = read_range(consumer, [TopicPartition(self.topic, part)])[part]
                    by_part[part] = records
                    out.records += len(records)
                    got = self._partition(part, records, None)
                if got is None:
                    continue
                used[part], users, out.since[part] = got
                out.partitions.append(part)
                for key, blob in users.items():
                    if blob is not None:
                        out.users[key.decode()] = (part, blob)
                for t, p, o in used[part]["offsets"]:
                    if p == part:
                        out.offsets[(t, p)] = o
                for t, p, n in used[part]["applied"]:
                    if p == part:
                        out.applied[(t, p)] = n
            self.schedule.adopt(used, out.since)
            if want_shared and used:
                newest = max(used.values(), key=lambda m: m["cycle"])
                out.shared = self._shared(consumer, newest, by_part)
        finally:
            consumer.close()
        out.seconds = time.perf_counter() - t0
        return out

    def _partition(
        self, part: int, records: list[Any], start: dict[str, Any] | None
    ) -> tuple[dict[str, Any], dict[bytes, bytes | None], int] | None:
        """(last marker, last value per user before it, per-user records read after the
        snapshot) of one partition's records; None if they hold no marker, or if they begin
        at ``start``'s snapshot and the last marker does not name it whole."""
        cut = max((i for i, r in enumerate(records) if r.key == MARKER), default=None)
        if cut is None:
            return None
        marker = orjson.loads(records[cut].value)
        ref = named_ref(marker, part)
        latest: dict[bytes, bytes | None] = {}
        low = 0
        if ref is not None:
            chunks = chunks_of(records[:cut], ref)
            if len(chunks) == ref["chunks"]:
                for i in range(ref["chunks"]):
                    latest.update(decode(chunks[i]))
                low = ref["offset"]
        if start is not None and low < start["offset"]:
            return None
        since = 0
        for rec in records[:cut]:
            key = rec.key
            if (
                rec.offset >= low
                and key is not None
                and key != MARKER
                and not key.startswith(SHARED)
                and not key.startswith(SNAPSHOT)
            ):
                latest[key] = rec.value
                since += 1
        return marker, latest, since

    def _shared(
        self, consumer: KafkaConsumer, marker: dict[str, Any], read: Mapping[int, list[Any]]
    ) -> bytes | None:
        """The shared models ``marker`` names, from the records ``read`` if they hold its
        partition (written after any snapshot its markers name), else read from its start."""
        part = marker.get("shared_partition")
        if part is None:
            return None
        records = read.get(part)
        if records is None:
            records = read_range(consumer, [TopicPartition(self.topic, part)])[part]
        want = (marker["writer"].encode(), str(marker["cycle"]).encode())
        chunks: dict[int, bytes] = {}
        total = 0
        for rec in records:
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
