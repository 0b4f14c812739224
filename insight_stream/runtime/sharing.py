"""The run loop's side of shared models: close model epochs with the group before folding past
them, refit on the group's users, keep pace with the group while caught up.

Mixed into :class:`~.loop.Runner`; the transport is :class:`~.model_topic.ModelTopic`. With
every partition owned (one instance) nothing is exchanged: the engine's own ops are the
group's. See :mod:`insight_stream.processor.epochs` for why ops and boundaries make every
instance's models equal to one engine's.
"""

from __future__ import annotations

import logging
import pickle
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from insight_stream.models.profile import DAY_MS
from insight_stream.processor.driver import Pending
from insight_stream.processor.snapshot import HOUR_MS, queued_counts, queued_ops
from insight_stream.runtime.model_topic import ModelTopic, split_by_partition

if TYPE_CHECKING:
    import threading

    from insight_stream.processor.contract import Engine
    from insight_stream.processor.driver import Driver
    from insight_stream.runtime.config import RuntimeConfig
    from insight_stream.runtime.metrics import Metrics
    from insight_stream.runtime.sink import KafkaSink
    from insight_stream.runtime.source import KafkaSource

log = logging.getLogger("insight_stream.runtime.loop")

GATE_WAIT_S = 0.5  # how long one gate check waits for peers before the loop polls input again


class SharedModels:
    """Model epochs with the group (mixed into the Runner)."""

    cfg: RuntimeConfig
    processor: Engine
    sink: KafkaSink
    source: KafkaSource
    driver: Driver
    owner: dict[str, int]
    owned: set[int]
    stop: threading.Event
    lock: Any
    metrics: Metrics
    _changed: bool
    _settled: bool

    def _share_setup(self) -> None:
        self.models: ModelTopic | None = None
        self._published: dict[int, int] = {}  # partition -> epochs it closed through
        self._reported_time = 0
        self._started: set[int] = set()  # partitions whose start was published
        self._population: tuple[int, list[tuple[str, Any]]] | None = None
        self._users_sent: dict[int, set[int]] = {}  # day start -> partitions whose users went
        self._own_population = getattr(self.processor, "population", None)
        if not self.cfg.share_models or self._own_population is None:
            return  # off, or an engine without model epochs (a test double)
        self.models = ModelTopic(self.cfg, self.sink, self.cfg.partitions)
        self.driver.gate = self._gate
        self.processor.population = self._group_population

    @property
    def exchanging(self) -> bool:
        """True when the group's other instances hold some partitions."""
        return self.models is not None and len(self.owned) < self.cfg.partitions

    def _share_assigned(self, restored: dict[int, bytes]) -> None:
        """After an assignment: keep the queued ops of owned partitions only (a revoked
        partition's go to its new owner through the changelog), take over those of the
        partitions restored from another writer's checkpoint (``{partition: shared blob}``),
        and skip the epochs the engine's models already hold."""
        engine = self.processor
        if self.models is None:
            return
        self._population = None  # the users this instance holds changed
        keep = self.owned - set(restored)  # a restored partition's ops come from its writer
        ops = [op for op in engine.model_ops if op[1][2] in keep or not op[1][1]]
        for part, shared in restored.items():
            ops += split_by_partition(queued_ops(shared), [part])[part]
        ops.sort(key=lambda op: (op[0], op[1]))
        engine.model_ops = ops
        for counts in engine.record_counts.values():
            for part in [p for p in counts if p not in keep]:
                del counts[part]
        for part, shared in restored.items():
            for end, counts in queued_counts(shared).items():
                if part in counts:
                    engine.record_counts.setdefault(end, {})[part] = counts[part]
        if engine.epoch_end:
            done = engine.epoch_end - HOUR_MS
            self.models.skip_to(done)
            for part in self.owned:  # a partition new here closes from the engine's epoch on
                self._published[part] = max(self._published.get(part, 0), done)

    # -- the gate: before folding past an epoch end -----------------------------------------
    def _gate(self, item: Pending) -> bool:
        """Fold ``item`` now (True), or hold it until the group closed its epoch (False)."""
        if not self.exchanging:
            return True
        engine, ts = self.processor, item.event.ts
        if ts >= engine.epoch_end and self.source.rebalancing():
            return False  # the loop must poll to finish the rebalance first
        if not engine.epoch_end:  # a fresh engine: open the group's first epoch first
            return self._start(item)
        if ts < engine.epoch_end:
            return True
        return self._close_through(ts - ts % HOUR_MS)

    def _start(self, head: Pending) -> bool:
        assert self.models is not None
        heads: dict[int, int] = {}
        for key in self.driver.merger.sources():
            first = self.driver.merger.head(key)
            if first is not None:
                part = key[1]
                heads[part] = min(heads.get(part, first.event.ts), first.event.ts)
        for part in sorted(self.owned - self._started):
            self.models.publish_start(part, heads.get(part))
            self._started.add(part)
        self.sink.flush()
        models = self.models
        self._wait(
            lambda: models.group_start() is not None,
            "the group's first event time",
            self._gate_timeout(),
        )
        start = models.group_start()
        if start is None:
            return False
        self._advance(start)  # the first epoch opens where replay's does
        for part in self.owned:
            self._published[part] = start - start % HOUR_MS
        return self._gate(head)

    def _close_through(self, target: int) -> bool:
        """Publish own epochs through ``target``; once every partition closed it, hand the
        engine the group's ops (its own among them, in the merged order) and return True.

        Until then the engine is moved to the furthest boundary the whole group closed. A
        day start on the way (where refits read every user) is crossed only once every
        partition's users at that instant are in (published from the loop, never from inside
        the engine: a peer that died must be replaced by a rebalance, which needs polling)."""
        models, engine = self.models, self.processor
        assert models is not None
        late = sorted(p for p in self.owned if self._published.get(p, 0) < target)
        if late:
            by_part = split_by_partition(engine.model_ops, late)
            closing = {end: c for end, c in engine.record_counts.items() if end <= target}
            for part in late:
                counts = {end: c[part] for end, c in closing.items() if c.get(part)}
                models.publish_ops(part, target, by_part[part], counts, engine.stream_time)
                self._published[part] = target
            self.sink.flush()
        day = -(-engine.epoch_end // DAY_MS) * DAY_MS  # the next day start
        limit = min(day, target)
        self._wait(
            lambda: min(models.closed.values()) >= min(limit, engine.epoch_end),
            f"epochs through {limit}",
            self._gate_timeout(),
        )
        reach = min(models.closed.values())
        if reach:
            self.metrics.model_epoch.set(reach / 1000)
        if reach < limit:
            if reach >= engine.epoch_end:
                self._take(reach)
                self._advance(reach)  # the boundaries the group passed, refits included
            return False
        self._take(limit)
        # customers are exchanged only at day starts whose refits read them (weekly labels
        # and fits, segment refinements, drift refits): not at every day start
        if limit == day and engine.population_due(day) and not self._users_at(day):
            return False
        if limit == target:
            return True
        self._advance(limit)  # crosses the day start; its refits read the users gathered
        return False

    def _take(self, boundary: int) -> None:
        assert self.models is not None
        engine = self.processor
        ops, counts = self.models.take(boundary)  # own ops of those epochs come back in them
        engine.model_ops = ops + [op for op in engine.model_ops if op[0] > boundary]
        engine.group_records.update(counts)

    def _users_at(self, day: int) -> bool:
        """Gather every partition's users at day start ``day`` (own ones published once the
        engine folded everything before it); True once all are in."""
        models, engine = self.models, self.processor
        assert models is not None
        if self._population is not None and self._population[0] == day:
            return True
        if engine.stream_time < day - 1:
            self._advance(day - 1)  # the timers due before the day start fire first
        sent = self._users_sent.setdefault(day, set())
        mine = {p: [] for p in self.owned - sent}
        if mine:
            for uid, u in self._own_population():
                part = self.owner.get(uid)
                if part in mine:
                    mine[part].append((uid, u))
            for part, rows in sorted(mine.items()):
                blob = pickle.dumps(rows, protocol=pickle.HIGHEST_PROTOCOL)
                models.publish_users(part, day, blob)
                sent.add(part)
            self.sink.flush()
        self._wait(
            lambda: models.population(day) is not None,
            f"the users at {day}",
            self._gate_timeout(),
        )
        got = models.population(day)
        if got is None:
            return False
        users = dict(self._own_population())
        for part, blob in got.items():
            if part not in self.owned:
                users.update(pickle.loads(blob))
        self._population = (day, [(uid, users[uid]) for uid in sorted(users)])
        for old in [d for d in self._users_sent if d < day]:
            del self._users_sent[old]
        return True

    def _advance(self, now_ms: int) -> None:
        """Move stream time to ``now_ms`` (the group's), emitting windows sealed on the way."""
        with self.lock:
            self.processor.advance_time(now_ms)
        self.driver.emit_sealed()
        self._changed = True
        self._settled = False  # the open window is re-published from the new state

    def _wait(self, ready: Any, what: str, stop: Any) -> None:
        """Wait for the group (counted in ``insight_stream_model_epoch_wait_seconds_total``)."""
        assert self.models is not None
        t0 = time.monotonic()
        self.models.wait(ready, what, stop)
        self.metrics.model_wait.inc(time.monotonic() - t0)

    def _gate_timeout(self) -> Any:
        deadline = time.monotonic() + GATE_WAIT_S
        return lambda: self.stop.is_set() or time.monotonic() > deadline

    # -- caught up: keep pace with the group ------------------------------------------------
    def _share_idle(self) -> None:
        """Called when every owned partition is caught up and nothing is buffered: close the
        epochs a peer waits at, and move stream time to the group's (timers fire as in
        replay, where other partitions' events move it)."""
        if not self.exchanging or self.source.rebalancing():
            return
        models, engine = self.models, self.processor
        assert models is not None
        models.poll(0)
        if not engine.epoch_end:
            fresh = sorted(self.owned - self._started)
            for part in fresh:
                models.publish_start(part, None)
                self._started.add(part)
            if fresh:
                self.sink.flush()
            start = models.group_start()
            if start is not None:
                self._advance(start)
                for part in self.owned:
                    self._published[part] = start - start % HOUR_MS
            return
        closed, newest = models.furthest()
        want = max(closed, newest)
        if want > engine.stream_time:
            target = want - want % HOUR_MS
            if target >= engine.epoch_end and not self._close_through(target):
                return
            self._advance(want)
        if engine.stream_time > self._reported_time:
            for part in sorted(self.owned):
                models.publish_ops(part, self._published.get(part, 0), [], {}, engine.stream_time)
            self.sink.flush()
            self._reported_time = engine.stream_time

    # -- refits on the group's users -------------------------------------------------------
    def _group_population(self) -> Iterable[tuple[str, Any]]:
        """Every user of the group at the boundary being closed, sorted by id: own users as
        they are, the others' from the model topic (each instance publishes its own)."""
        if not self.exchanging:
            return self._own_population()
        models, engine = self.models, self.processor
        assert models is not None
        at = engine.epoch_end - HOUR_MS
        if self._population is not None and self._population[0] == at:
            return self._population[1]
        log.warning(
            "refit at %d without the group's users gathered first: waiting in the engine", at
        )
        mine: dict[int, list[tuple[str, Any]]] = {p: [] for p in self.owned}
        users = dict(self._own_population())
        for uid, u in users.items():
            part = self.owner.get(uid)
            if part in mine:
                mine[part].append((uid, u))
        for part, rows in sorted(mine.items()):
            models.publish_users(part, at, pickle.dumps(rows, protocol=pickle.HIGHEST_PROTOCOL))
        self.sink.flush()
        self._wait(
            lambda: models.population(at) is not None, f"the users at {at}", self.stop.is_set
        )
        got = models.population(at) or {}
        for part, blob in got.items():
            if part not in self.owned:
                users.update(pickle.loads(blob))
        rows = [(uid, users[uid]) for uid in sorted(users)]
        self._population = (at, rows)
        return rows
