"""The run loop: poll -> decode -> process, and every commit interval
drain -> produce -> flush -> checkpoint (state + offsets, one transaction) -> group commit.

The order is what makes a crash anywhere safe (docs/checkpointing.md): outputs are
acknowledged before the state that produced them is persisted, and state is persisted
together with the offsets it reflects, so a restart resumes exactly where the state ends.
Rebalance callbacks run on kafka-python's IO thread while ``poll`` blocks the loop thread,
so they never race with processing; they must not call blocking consumer APIs.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import orjson
from kafka import TopicPartition
from kafka.errors import KafkaError

from insight_stream.events.decode import decode
from insight_stream.events.outputs import DlqRecord
from insight_stream.runtime.checkpoint import CheckpointStore
from insight_stream.runtime.config import RuntimeConfig
from insight_stream.runtime.metrics import Metrics
from insight_stream.runtime.sink import KafkaSink, ProduceFailedError
from insight_stream.runtime.source import KafkaSource

log = logging.getLogger(__name__)

POLL_TIMEOUT_MS = 200
MAX_HOLDS = 25  # polls to wait for a partition that never answers before ignoring it
IDLE_POLLS = 25  # polls without records before a partition stops holding time back
EXIT_OK, EXIT_PRODUCE_FAILED = 0, 3
Key = tuple[str, int]


class Runner:
    """Drives one processor from a Kafka source to a Kafka sink with local checkpoints."""

    def __init__(
        self,
        cfg: RuntimeConfig,
        processor: Any,
        source: KafkaSource,
        sink: KafkaSink,
        store: CheckpointStore,
        metrics: Metrics,
        stop: threading.Event | None = None,
        until: Callable[[Runner], bool] | None = None,
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        self.cfg, self.processor, self.source, self.sink = cfg, processor, source, sink
        self.store, self.metrics = store, metrics
        self.stop = stop or threading.Event()
        self.until, self.on_batch = until, on_batch
        self.positions: dict[Key, int] = {}  # next offset to read, per assigned partition
        self.unsaved: set[Key] = set()  # partitions whose position moved since the last checkpoint
        self.applied: dict[Key, int] = store.load_applied()
        self.owner: dict[str, int] = {}  # user_id -> input partition holding its events
        self.owned: set[int] = set()
        self.shared_restored = False
        self.dirty = False  # state may have changed without new offsets (idle timers)
        self.fatal: BaseException | None = None
        self.closing = False
        self.last_event_ts = 0  # ms, newest event time seen
        self.partition_ts: dict[Key, int] = {}  # newest event time per input partition
        self._holds = 0  # polls spent waiting for unknown partitions (per assignment)
        self._polls = 0
        self._last_data: dict[Key, int] = {}  # poll number that last brought records
        self._last_record_wall = time.monotonic()
        self._next_commit = time.monotonic() + cfg.commit_interval_ms / 1000
        self._dlq_seen = {"decode": 0, "validation": 0, "processing": 0}

    # -- main loop --------------------------------------------------------------------
    def run(self) -> int:
        """Loop until stopped (signal, ``until``) or a fatal error; returns the exit code."""
        self.source.subscribe(self._on_revoked, self._on_assigned)
        try:
            while not self.stop.is_set():
                batch = self._poll()
                if self.fatal is not None:
                    raise self.fatal
                engine_s = self._process(batch) if batch else self._idle()
                if time.monotonic() >= self._next_commit:
                    engine_s += self.commit_cycle()
                if batch:
                    self.metrics.processing.observe(engine_s)
                if self.until is not None and self.until(self):
                    break
            self.commit_cycle()  # graceful stop: finish the batch, flush, checkpoint, commit
            log.info("stopped cleanly; offsets committed")
            return EXIT_OK
        except ProduceFailedError as exc:
            log.error("stopping without committing: %s (input will be replayed on restart)", exc)
            return EXIT_PRODUCE_FAILED
        finally:
            self.closing = True  # consumer.close() calls on_partitions_revoked: nothing to save
            self.source.close()
            self.sink.close()

    def _poll(self) -> dict[TopicPartition, list[Any]]:
        self._polls += 1
        try:
            return self.source.poll(POLL_TIMEOUT_MS)
        except KafkaError as exc:
            self.metrics.broker_errors.labels(operation="poll").inc()
            log.warning("poll failed: %s; retrying", exc)
            self.stop.wait(0.5)
            return {}
        finally:
            self.metrics.polled()

    def _process(self, batch: dict[TopicPartition, list[Any]]) -> float:
        """Decode and process one polled batch; returns the engine seconds spent."""
        t0 = time.perf_counter()
        process, owner, sink, m = self.processor.process, self.owner, self.sink, self.metrics
        total = 0
        last_ev = None
        for tp, records in batch.items():
            topic, part = tp.topic, tp.partition
            good = 0
            for rec in records:
                ev = decode(rec.value, topic, part, rec.offset, rec.key)
                if isinstance(ev, DlqRecord):
                    sink.send_dlq(ev, rec.value, rec.key)
                    self._dlq_seen[ev.error_type] = self._dlq_seen.get(ev.error_type, 0) + 1
                    continue
                try:
                    process(ev)
                except Exception as exc:
                    log.exception("processing failed at %s[%d]@%d", topic, part, rec.offset)
                    bad = DlqRecord(
                        source_topic=topic,
                        partition=part,
                        offset=rec.offset,
                        error_type="processing",
                        error=f"{type(exc).__name__}: {exc}",
                        raw="",
                    )
                    sink.send_dlq(bad, rec.value, rec.key)
                    self._dlq_seen["processing"] += 1
                    continue
                owner[ev.user_id] = part
                good += 1
                last_ev = ev
            key = (topic, part)
            self._last_data[key] = self._polls
            if last_ev is not None and last_ev.ts > self.partition_ts.get(key, 0):
                self.partition_ts[key] = last_ev.ts
            self.positions[key] = records[-1].offset + 1
            self.unsaved.add(key)
            self.applied[key] = self.applied.get(key, 0) + good
            m.consumed.labels(topic=topic).inc(len(records))
            total += len(records)
        self._advance_watermark()
        elapsed = time.perf_counter() - t0
        m.batch_size.observe(total)
        for reason, n in self._dlq_seen.items():
            if n:
                m.dlq.labels(reason=reason).inc(n)
                self._dlq_seen[reason] = 0
        if last_ev is not None:
            self.last_event_ts = max(self.last_event_ts, last_ev.ts)
            m.last_event_ts.set(self.last_event_ts / 1000)
            m.event_lag.observe(max(0.0, time.time() - last_ev.ts / 1000))
        self._last_record_wall = time.monotonic()
        if self.on_batch is not None:
            self.on_batch(total)
        return elapsed

    def _advance_watermark(self) -> None:
        """Stream time = the slowest assigned partition that still has data to read.

        Partitions that are caught up (position at the fetch high-watermark) do not
        hold time back; when all are caught up, time is the newest event seen.
        """
        if not self.partition_ts:
            return
        lag = self.source.lag(self.positions)
        behind: list[int] = []
        unknown = False
        for key in self.source.assigned():
            remaining = lag.get(key)
            ts = self.partition_ts.get(key)
            if ts is None:
                if remaining is None or remaining > 0:
                    unknown = True  # never fetched, or data waiting and none read yet
                continue  # known to be empty: holds nothing back
            if remaining is None or remaining > 0:
                if self._polls - self._last_data.get(key, 0) > IDLE_POLLS:
                    continue  # fetched but silent: idle (or a broker's high-watermark is off)
                behind.append(ts)  # data left (or not known to be caught up)
        if unknown and self._holds < MAX_HOLDS:
            # Hold time back until every partition with data has been read from.
            # Bounded per assignment: a partition that never answers stops holding.
            self._holds += 1
            return
        watermark = min(behind) if behind else max(self.partition_ts.values())
        self.processor.advance_time(watermark)

    def _idle(self) -> float:
        """Optionally advance stream time while the input is idle so inactivity timers fire."""
        self._advance_watermark()  # partitions may have caught up, or a hold may time out
        idle = time.monotonic() - self._last_record_wall
        if self.cfg.idle_advance_s <= 0 or idle < self.cfg.idle_advance_s or not self.last_event_ts:
            return 0.0
        t0 = time.perf_counter()
        self.processor.advance_time(self.last_event_ts + int(idle * 1000))
        self.dirty = True
        return time.perf_counter() - t0

    # -- commit cycle -----------------------------------------------------------------
    def commit_cycle(self, in_callback: bool = False) -> float:
        """Drain, produce, flush, checkpoint, commit. Returns the drain (engine) seconds.

        Raises :class:`ProduceFailedError` before anything is persisted when outputs could
        not be delivered; the checkpoint then still describes the last good state.
        """
        self._next_commit = time.monotonic() + self.cfg.commit_interval_ms / 1000
        if self.fatal is not None or self.closing:
            return 0.0
        t0 = time.perf_counter()
        out = self.processor.drain()
        drain_s = time.perf_counter() - t0
        if not (self.unsaved or self.dirty or out.profiles or out.alerts or self.sink.pending):
            if not in_callback:
                self._group_commit(False)  # also probes the broker while idle (errors counted)
            self._observe_engine()
            return drain_s
        dumps, send = orjson.dumps, self.sink.send
        profiles_topic, alerts_topic = self.cfg.profiles_topic, self.cfg.alerts_topic
        for uid, profile in out.profiles.items():
            send(profiles_topic, uid.encode(), None if profile is None else dumps(profile))
        for alert in out.alerts:
            send(alerts_topic, str(alert.get("user_id", "")).encode(), dumps(alert))
        produced = self.sink.flush()
        ck = self.processor.checkpoint()
        owner = self.owner
        users = {uid: (owner.get(uid, -1), blob) for uid, blob in ck.users.items()}
        for uid, blob in ck.users.items():
            if blob is None:
                owner.pop(uid, None)
        offsets = {k: self.positions[k] for k in self.unsaved if k in self.positions}
        self.store.save(users, ck.shared, offsets, {k: self.applied.get(k, 0) for k in offsets})
        self.unsaved.clear()
        self.dirty = False
        self._group_commit(in_callback)
        m = self.metrics
        m.profiles.inc(produced.get(profiles_topic, 0))
        m.alerts.inc(produced.get(alerts_topic, 0))
        m.commit_duration.observe(time.perf_counter() - t0 - drain_s)
        self._observe_engine()
        return drain_s

    def _group_commit(self, in_callback: bool) -> None:
        """Mirror positions to the group for lag monitoring; failures are counted, not fatal."""
        offsets = {k: v for k, v in self.positions.items()}
        try:
            if in_callback:
                self.source.commit_async(offsets)
            else:
                self.source.commit(offsets)
            self.metrics.commits.inc()
        except KafkaError as exc:
            self.metrics.broker_errors.labels(operation="commit").inc()
            log.warning(
                "group commit failed (checkpoint is saved, only lag monitoring lags): %s", exc
            )

    def _observe_engine(self) -> None:
        try:
            self.metrics.observe_stats(self.processor.stats())
        except Exception as exc:
            log.warning("processor.stats() failed: %s", exc)
        self.metrics.set_lag(self.source.lag(self.positions))

    # -- rebalance (IO thread, loop thread blocked in poll) ---------------------------
    def _on_revoked(self, revoked: set[TopicPartition]) -> None:
        self.metrics.rebalances.labels(kind="revoked").inc()
        if self.closing or self.fatal is not None or not revoked:
            return
        log.info("partitions revoked: %s; committing what was processed", _fmt(revoked))
        try:
            self.commit_cycle(in_callback=True)
        except BaseException as exc:
            self.fatal = exc

    def _on_assigned(self, assigned: set[TopicPartition]) -> None:
        """Restore state of newly owned partitions, forget lost ones, seek to checkpoints."""
        self.metrics.rebalances.labels(kind="assigned").inc()
        if self.fatal is not None:
            return
        try:
            parts = {tp.partition for tp in assigned}
            gone = self.owned - parts
            if gone:
                leaving = [u for u, p in self.owner.items() if p in gone]
                self.processor.forget(leaving)
                for u in leaving:
                    del self.owner[u]
            new = parts - self.owned
            first = not self.shared_restored
            rows = list(self.store.load_users(new, include_unknown=first)) if new or first else []
            shared = self.store.load_shared() if first else None
            if rows or shared is not None:
                self.processor.restore(((u, b) for u, _, b in rows), shared)
            for u, p, _ in rows:
                self.owner[u] = p
            self.shared_restored = True
            stored = self.store.load_offsets()
            self.positions = {}
            for tp in assigned:
                key = (tp.topic, tp.partition)
                offset = stored.get(key)
                self.source.seek(tp, offset)
                if offset is not None:
                    self.positions[key] = offset
            self.unsaved &= set(self.positions)
            self.owned = parts
            keys = {(tp.topic, tp.partition) for tp in assigned}
            self.partition_ts = {k: ts for k, ts in self.partition_ts.items() if k in keys}
            self._holds = 0
            self.metrics.set_assigned(len(assigned))
            log.info("partitions assigned: %s (restored %d users)", _fmt(assigned), len(rows))
        except BaseException as exc:
            self.fatal = exc


def _fmt(tps: set[TopicPartition]) -> str:
    return ", ".join(f"{tp.topic}[{tp.partition}]" for tp in sorted(tps)) or "none"
