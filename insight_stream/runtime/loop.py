"""The run loop: poll -> decode into the event-time merge -> fold in merged order, and every
commit interval drain -> produce -> flush -> checkpoint (state + offsets, one transaction)
-> group commit.

Folding goes through the same :class:`~insight_stream.processor.driver.Driver` as a file
replay, with one merge source per assigned input partition (:mod:`.tasks`), so a backlog,
a live stream and a replay of the same input fold the same events in the same order and
seal the same coalescing windows. Once every partition is caught up the last window is
*settled* (rebuilt whole), so the profile topic then holds what a replay's final drain gives.

The commit order is what makes a crash anywhere safe (docs/checkpointing.md): outputs are
acknowledged before the state that produced them is persisted, and state is persisted
together with the offsets of the first records it does *not* reflect. Rebalance callbacks
run inside ``poll`` on the loop thread, so they never race with processing.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from kafka import TopicPartition
from kafka.errors import KafkaError, OffsetOutOfRangeError

from insight_stream.processor.contract import Engine
from insight_stream.processor.driver import Driver, Pending
from insight_stream.processor.router import Record, Router
from insight_stream.runtime.changelog import Changelog, StateSettingsError
from insight_stream.runtime.checkpoint import CheckpointStore
from insight_stream.runtime.config import RuntimeConfig
from insight_stream.runtime.metrics import Metrics
from insight_stream.runtime.rebalance import Rebalance
from insight_stream.runtime.sharing import SharedModels
from insight_stream.runtime.sink import KafkaSink, ProduceFailedError
from insight_stream.runtime.source import KafkaSource
from insight_stream.runtime.tasks import InputTasks

log = logging.getLogger(__name__)

POLL_TIMEOUT_MS = 200
EXIT_OK, EXIT_MISFIT, EXIT_PRODUCE_FAILED, EXIT_OFFSET_LOST = 0, 2, 3, 4


class OffsetLostError(RuntimeError):
    """A checkpointed offset lies beyond the end of its partition (INSIGHT_ON_OFFSET_LOSS=fail)."""


Key = tuple[str, int]


class Runner(Rebalance, SharedModels):
    """Drives one engine from a Kafka source to a Kafka sink with local checkpoints."""

    def __init__(
        self,
        cfg: RuntimeConfig,
        processor: Engine,
        source: KafkaSource,
        sink: KafkaSink,
        store: CheckpointStore,
        metrics: Metrics,
        stop: threading.Event | None = None,
        until: Callable[[Runner], bool] | None = None,
        on_batch: Callable[[int], None] | None = None,
        changelog: Changelog | None = None,
    ) -> None:
        self.cfg, self.processor, self.source, self.sink = cfg, processor, source, sink
        self.changelog = changelog
        self.cycle = store.changelog_cycle
        self.store, self.metrics = store, metrics
        self.stop = stop or threading.Event()
        self.until, self.on_batch = until, on_batch
        router = Router(cfg.profiles_topic, cfg.alerts_topic, cfg.dlq_topic)
        # held while engine state changes (per event, restore, forget, idle advance);
        # interactive queries hold it per lookup (runtime/queries.py)
        self.lock = threading.Lock()
        self.driver = Driver(
            processor, self._emit, cfg.flush_events, router, self._on_fold, guard=self.lock
        )
        self.tasks = InputTasks(
            self.driver,
            cfg.input_topics,
            cfg.max_buffered,
            cfg.max_task_idle_ms,
            cfg.input_limits(),
            cfg.pseudonymizer(),
        )
        self.applied: dict[Key, int] = store.load_applied()
        self.owner: dict[str, int] = {}  # user_id -> input partition holding its events
        self.owned: set[int] = set()
        self.shared_restored = False
        self.fatal: BaseException | None = None
        self.closing = False
        self.last_event_ts = 0  # ms, newest event time folded
        self.commit_ok: bool | None = None  # outcome of the last group commit
        self._saved: dict[Key, int] = {}  # offsets in the last checkpoint
        self._changed = False  # state moved since the last checkpoint
        self._settled = True  # nothing folded since the last settle
        self._last_tick = time.monotonic()
        self._last_record_wall = time.monotonic()
        self._next_commit = time.monotonic() + cfg.commit_interval_ms / 1000
        self._next_settle = 0.0
        self._wait_s = 0.0  # until a caught-up partition stops holding the merge
        self._dlq_seen: dict[str, int] = {}
        self._topic_ids: dict[str, str] = {}  # input topic ids last checked
        self._share_setup()  # models shared with the group (runtime/sharing.py)

    @property
    def settled(self) -> bool:
        """Every partition caught up and the open window re-published (outputs == replay)."""
        return self._settled and self.tasks.caught_up(self.source.highwaters())

    # -- main loop --------------------------------------------------------------------
    def run(self) -> int:
        """Loop until stopped (signal, ``until``) or a fatal error; returns the exit code."""
        self.source.subscribe(self._on_revoked, self._on_assigned)
        try:
            while not self.stop.is_set():
                batch = self._poll()
                if self.fatal is not None:
                    raise self.fatal
                engine_s = self._step(batch)
                if self.fatal is not None:
                    raise self.fatal
                if time.monotonic() >= self._next_commit:
                    engine_s += self.commit_cycle()
                if batch:
                    self.metrics.processing.observe(engine_s)
                if self.until is not None and self.until(self):
                    break
            self.commit_cycle(final=True)  # graceful stop: publish, flush, checkpoint, commit
            if self.commit_ok is False:
                log.warning("stopped; checkpoint saved, but the group commit failed")
            else:
                log.info("stopped cleanly; checkpoint saved and offsets committed")
            return EXIT_OK
        except ProduceFailedError as exc:
            log.error("stopping without committing: %s (input will be replayed on restart)", exc)
            return EXIT_PRODUCE_FAILED
        except OffsetLostError as exc:
            log.error("%s", exc)
            return EXIT_OFFSET_LOST
        except StateSettingsError as exc:
            log.error("cannot restore: %s", exc)
            return EXIT_MISFIT
        finally:
            self.closing = True  # consumer.close() calls on_partitions_revoked: nothing to save
            self.source.close()
            self.sink.close()
            if self.models is not None:
                self.models.close()

    def _poll(self) -> dict[TopicPartition, list[Any]]:
        timeout = POLL_TIMEOUT_MS
        if self._wait_s > 0:
            timeout = max(1, min(timeout, int(self._wait_s * 1000) + 1))
        try:
            batch = self.source.poll(timeout)
            self._broker_contact(batch)
            return batch
        except OffsetOutOfRangeError as exc:
            lost = exc.args[0] if exc.args and isinstance(exc.args[0], dict) else {}
            self._offset_lost({(tp.topic, tp.partition): o for tp, o in lost.items()})
            return {}
        except KafkaError as exc:
            self.metrics.broker_errors.labels(operation="poll").inc()
            log.warning("poll failed: %s; retrying", exc)
            self.stop.wait(0.5)
            return {}
        finally:
            self.metrics.polled()

    def _broker_contact(self, batch: dict[TopicPartition, list[Any]]) -> None:
        """Records fetched, or a heartbeat answered: the broker is there (for /healthz)."""
        if batch:
            self.metrics.broker_seen()
        seen = self.source.last_contact()
        if seen is not None:
            self.metrics.broker_seen(seen)

    def _offset_lost(self, lost: dict[Key, int], cause: str = "") -> None:
        """The broker no longer has the records at our offsets: fail loudly or, by policy,
        read those partitions again from their start (the state is kept)."""
        self.metrics.broker_errors.labels(operation="offset_loss").inc()
        where = ", ".join(f"{t}[{p}] at offset {o}" for (t, p), o in sorted(lost.items()))
        cause = (
            cause or f"checkpointed offsets are beyond the end of {where or 'an input partition'}"
        )
        if self.cfg.on_offset_loss == "fail":
            self.fatal = OffsetLostError(
                f"{cause}: the broker lost its data or the topic was recreated. Stopping "
                "(exit 4) without committing; set INSIGHT_ON_OFFSET_LOSS=reset-earliest to keep "
                "the state and read those partitions from their start, or remove the state "
                "directory and the changelog to rebuild"
            )
            return
        log.warning("%s: reading %s from the start (policy)", cause, where)
        keys = list(lost)
        for key in keys:
            self.tasks.restart(key)
        if keys:
            self.source.seek_to_beginning(keys)

    def _recreated(self) -> bool:
        """True when an input topic's broker id changed since its offsets were saved (deleted
        and recreated: offsets alone miss it once the new topic is refilled past them)."""
        ids = self.source.topic_ids()
        if ids == self._topic_ids or not self.tasks.parts:
            return False  # unchanged, or not assigned yet (checked again on assignment)
        known = self.store.topic_ids()
        changed = {t: (known[t], i) for t, i in ids.items() if t in known and known[t] != i}
        self._topic_ids = ids
        if changed and self.cfg.on_offset_loss == "fail":
            self._topic_ids = {}  # stay failed: never remember the new id without a policy
        else:
            self.store.remember_topic_ids({**known, **ids})
        if not changed:
            return False
        positions = self.tasks.positions()
        lost = {k: positions.get(k, 0) for k in self.source.assigned() if k[0] in changed}
        what = ", ".join(f"{t} (id {a} -> {b})" for t, (a, b) in sorted(changed.items()))
        self._offset_lost(lost, f"input topic {what} was recreated after its offsets were saved")
        return True

    def _step(self, batch: dict[TopicPartition, list[Any]]) -> float:
        """Buffer a polled batch, fold what the merge allows, pause/resume; engine seconds."""
        t0 = time.perf_counter()
        if self._recreated():
            return time.perf_counter() - t0  # this batch came from the old topic's offsets
        total = 0
        consumed = self.metrics.consumed
        now_ms = int(time.time() * 1000) if self.cfg.max_future_skew else None
        for tp, records in batch.items():
            key = (tp.topic, tp.partition)
            back = self.tasks.misplaced(key, records[0].offset) if records else None
            if back is not None:
                log.warning(
                    "%s[%d]: batch at %d after assignment at %d; fetching again",
                    tp.topic,
                    tp.partition,
                    records[0].offset,
                    back,
                )
                self.source.seek(tp, back)
                continue
            self.tasks.add(key, records, now_ms)
            consumed.labels(topic=tp.topic).inc(len(records))
            total += len(records)
        highwaters = self.source.highwaters()
        lost = self.tasks.beyond_end(highwaters)
        if lost:
            self._offset_lost(lost)
            return time.perf_counter() - t0
        folded = self.driver.run()
        now = time.monotonic()
        self._wait_s = self.tasks.release_idle(highwaters, now - self._last_tick)
        self._last_tick = now
        folded += self.driver.run()
        idle = self.models is not None and not len(self.driver.merger)
        if idle and self.tasks.caught_up(highwaters):
            self._share_idle()  # keep pace with the group's epochs and stream time
        pause, resume = self.tasks.flow()
        if pause:
            self.source.pause(pause)
        if resume:
            self.source.resume(resume)
        if folded:
            self._changed = True
            self._settled = False
            self._last_record_wall = now
        elif not total:
            self._idle_advance(now)
        elapsed = time.perf_counter() - t0
        if total:
            self.metrics.batch_size.observe(total)
        if self.on_batch is not None and total:
            self.on_batch(total)
        return elapsed

    def _on_fold(self, item: Pending) -> None:
        ev = item.event
        part = item.partition or 0
        self.owner[ev.user_id] = part
        key = (item.topic, part)
        self.applied[key] = self.applied.get(key, 0) + 1
        self.tasks.folded(item)
        if ev.ts > self.last_event_ts:
            self.last_event_ts = ev.ts

    def _emit(self, record: Record) -> None:
        self.sink.send(*record)

    def _idle_advance(self, now: float) -> None:
        """Optionally advance stream time while the input is idle so inactivity timers fire."""
        idle = now - self._last_record_wall
        if self.cfg.idle_advance_s <= 0 or idle < self.cfg.idle_advance_s or not self.last_event_ts:
            return
        with self.lock:
            self.processor.advance_time(self.last_event_ts + int(idle * 1000))
        self.driver.emit_sealed()
        self._changed = True
        self._settled = False

    # -- commit cycle -----------------------------------------------------------------
    def commit_cycle(self, in_callback: bool = False, final: bool = False) -> float:
        """Drain, produce, flush, checkpoint, commit. Returns the drain (engine) seconds.

        Raises :class:`ProduceFailedError` before anything is persisted when outputs could
        not be delivered; the checkpoint then still describes the last good state. ``final``
        (stop, revoke) publishes the touched users' profiles even when behind the input.
        """
        self._next_commit = time.monotonic() + self.cfg.commit_interval_ms / 1000
        if self.fatal is not None or self.closing:
            return 0.0
        t0 = time.perf_counter()
        highwaters = self.source.highwaters()
        caught_up = self.tasks.caught_up(highwaters)
        settle = not self._settled and caught_up and time.monotonic() >= self._next_settle
        # more than a window behind its input, the loop publishes profiles at window ends
        # only (an early profile would be rebuilt at the window end moments later); within
        # a window of the input's end it publishes the touched users every cycle (live
        # input is rarely exactly caught up: a fetch is nearly always in flight); alerts go
        # out always
        behind = self.tasks.behind(highwaters)
        near = caught_up or (behind is not None and behind < self.cfg.flush_events)
        if near:  # live: the next cycle comes sooner (a backlog keeps the long interval)
            live = time.monotonic() + self.cfg.live_commit_interval_ms / 1000
            self._next_commit = min(self._next_commit, live)
        out = self.driver.drain(seal=False, everyone=settle, profiles=near or final)
        if settle:
            self._settled = True
            self._next_settle = time.monotonic() + self.cfg.settle_interval_ms / 1000
        drain_s = time.perf_counter() - t0
        offsets = self.tasks.positions()
        if not (self._changed or offsets != self._saved or len(out) or self.sink.pending):
            if not in_callback:
                self._group_commit(offsets, False)  # also probes the broker while idle
            self._observe(highwaters)
            return drain_s
        t_ck = time.perf_counter()
        ck = self.processor.checkpoint()
        checkpoint_s = time.perf_counter() - t_ck
        owner = self.owner
        users = {uid: (owner.get(uid, -1), blob) for uid, blob in ck.users.items()}
        for uid, blob in ck.users.items():
            if blob is None:
                owner.pop(uid, None)
        applied = {k: self.applied.get(k, 0) for k in offsets}
        cycle = None
        if self.changelog is not None:
            cycle = self.cycle + 1
            t_log = time.perf_counter()
            self.changelog.write(users, ck.shared, self.owned, cycle, self.store)
        produced = self._flush()
        if self.changelog is not None:
            self.changelog.mark(self.owned, cycle, offsets, applied)
            self._flush()
            self.metrics.changelog_latency.observe(time.perf_counter() - t_log)
            self.cycle = cycle
        t_ck = time.perf_counter()
        self.store.save(users, ck.shared, offsets, applied, cycle)
        checkpoint_s += time.perf_counter() - t_ck
        self._saved = offsets
        self._changed = False
        t_commit = time.perf_counter()
        self._group_commit(offsets, in_callback)
        m = self.metrics
        m.commit_duration.observe(time.perf_counter() - t_commit)
        m.checkpoint_duration.observe(checkpoint_s)
        m.profiles.inc(produced.get(self.cfg.profiles_topic, 0))
        m.alerts.inc(produced.get(self.cfg.alerts_topic, 0))
        self._observe(highwaters)
        return drain_s

    def _flush(self) -> dict[str, int]:
        """Flush the sink (every record acknowledged) and observe its send latency."""
        produced = self.sink.flush()
        if self.sink.flush_latency_s is not None:
            self.metrics.produce_latency.observe(self.sink.flush_latency_s)
        return produced

    def _group_commit(self, offsets: dict[Key, int], in_callback: bool) -> None:
        """Mirror checkpointed positions to the group for lag monitoring; failures are counted."""
        try:
            if in_callback:
                self.source.commit_async(offsets)
            else:
                self.source.commit(offsets)
            self.metrics.commits.inc()
            self.commit_ok = True
        except KafkaError as exc:
            self.commit_ok = False
            self.metrics.broker_errors.labels(operation="commit").inc()
            log.warning(
                "group commit failed (checkpoint is saved, only lag monitoring lags): %s", exc
            )

    def _observe(self, highwaters: dict[Key, int | None]) -> None:
        m = self.metrics
        for reason, n in self.driver.stats.dlq.items():
            seen = self._dlq_seen.get(reason, 0)
            if n > seen:
                m.dlq.labels(reason=reason).inc(n - seen)
                self._dlq_seen[reason] = n
        if self.last_event_ts:
            m.last_event_ts.set(self.last_event_ts / 1000)
            m.event_lag.observe(max(0.0, time.time() - self.last_event_ts / 1000))
        m.observe_tasks(self.tasks.per_task())
        m.settled.set(1 if self.settled else 0)
        try:
            m.observe_stats(self.processor.stats())
        except Exception as exc:
            log.warning("processor.stats() failed: %s", exc)
        positions = self.tasks.positions()
        m.set_lag(
            {k: max(0, hw - positions.get(k, 0)) for k, hw in highwaters.items() if hw is not None}
        )
