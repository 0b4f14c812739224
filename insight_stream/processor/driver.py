"""The one drive loop: every source (files, simulator, evaluation, benchmarks, Kafka) feeds
the engine through a :class:`Driver`, so the paths cannot diverge.

It owns the event-time order (a :class:`~insight_stream.processor.merge.Merger` over the
input's partitions), emitting the coalescing windows the engine seals at the first event-time
epoch end after ``flush_events`` records (so replay and Kafka publish the same profiles),
dead-lettering of
records that fail to decode *or* to process, and routing of outputs to records
(:class:`~insight_stream.processor.router.Router`). Sources only push records and say
when a partition has nothing more to give; sinks only take records.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import NamedTuple

from insight_stream.events.decode import decode
from insight_stream.events.inputs import Event
from insight_stream.events.outputs import DlqReason, DlqRecord
from insight_stream.processor.contract import Engine, Outputs
from insight_stream.processor.errors import RejectedEvent
from insight_stream.processor.merge import Merger
from insight_stream.processor.router import Record, Router

log = logging.getLogger(__name__)

Emit = Callable[[Record], None]


class Pending(NamedTuple):
    """A decoded event waiting in the merge, with what a DLQ record would need."""

    event: Event
    raw: bytes | None
    key: bytes | None
    topic: str
    partition: int | None
    offset: int | None


@dataclass
class DriverStats:
    """What went where since the driver started."""

    events: int = 0
    profiles: int = 0
    alerts: int = 0
    dlq: dict[str, int] = field(default_factory=dict)

    @property
    def dlq_total(self) -> int:
        return sum(self.dlq.values())


class Driver:
    """Feeds one engine in merged event-time order and emits routed output records.

    >>> from insight_stream.events import EVENT_ADAPTER
    >>> from insight_stream.processor import Processor
    >>> out = []
    >>> d = Driver(Processor(), out.append, flush_events=10)
    >>> d.add_source(("clicks", 0))
    >>> ev = EVENT_ADAPTER.validate_python(dict(event_id="e1", user_id="u1", type="login", ts=5))
    >>> d.push(("clicks", 0), ev)
    >>> d.close(("clicks", 0)); d.run()
    1
    >>> _ = d.drain(seal=True)
    >>> [(topic, key) for topic, key, _, _ in out]
    [('profiles', b'u1')]
    """

    def __init__(
        self,
        engine: Engine,
        emit: Emit,
        flush_events: int = 10_000,
        router: Router | None = None,
        on_fold: Callable[[Pending], None] | None = None,
        guard: AbstractContextManager[object] | None = None,
        gate: Callable[[Pending], bool] | None = None,
    ) -> None:
        """``on_fold`` sees every event folded in (the runtime maps users to partitions);
        ``guard`` is held around each ``process`` call, the only step that changes what
        readers of live state see (the runtime's lock for interactive queries); ``gate``
        may hold the next event back (False): the runtime waits there for the group to
        close a model epoch (runtime/model_topic.py)."""
        if flush_events < 1:
            raise ValueError("flush_events must be >= 1")
        self.engine = engine
        self.emit = emit
        self.flush_events = flush_events
        engine.seal_every = flush_events  # windows close at the first epoch end past it
        self.router = router or Router()
        self.merger = Merger()
        self.stats = DriverStats()
        self.on_fold = on_fold
        self.guard = guard
        self.gate = gate

    # -- sources ----------------------------------------------------------------------
    def add_source(self, key: Hashable) -> None:
        self.merger.add_source(key)

    def push(
        self,
        key: Hashable,
        event: Event,
        raw: bytes | None = None,
        rec_key: bytes | None = None,
        topic: str = "",
        partition: int | None = None,
        offset: int | None = None,
    ) -> None:
        """Buffer one decoded event of source ``key`` (in that source's order)."""
        self.merger.push(key, event.ts, Pending(event, raw, rec_key, topic, partition, offset))

    def close(self, key: Hashable) -> None:
        """Source ``key`` has nothing more to give (end of file, or caught up and idle)."""
        self.merger.set_idle(key)

    def dead_letter(self, rec: DlqRecord, raw: bytes | None, key: bytes | None = None) -> None:
        """A record that failed to decode or validate: to the DLQ, with raw bytes and reason."""
        stats = self.stats.dlq
        stats[rec.error_type] = stats.get(rec.error_type, 0) + 1
        self.emit(self.router.dead_letter(rec, raw, key))

    # -- the loop ---------------------------------------------------------------------
    def run(self, limit: int | None = None) -> int:
        """Fold buffered events in merged order until blocked or empty; returns how many."""
        merger, fold, gate, n = self.merger, self.fold, self.gate, 0
        pop = merger.pop
        while limit is None or n < limit:
            if gate is not None:
                head = merger.peek()
                if head is None or not gate(head):
                    break
            item = pop()
            if item is None:
                break
            fold(item)
            n += 1
        return n

    def fold(self, item: Pending) -> bool:
        """Process one event (sealing the window when due); failures go to the DLQ."""
        engine = self.engine
        try:
            guard = self.guard
            source = (item.topic, item.partition or 0)
            if guard is None:  # no concurrent readers: not even a null context per event
                engine.process(item.event, source)
            else:
                with guard:
                    engine.process(item.event, source)
        except RejectedEvent as exc:
            self._reject(item, exc.reason, exc.message)
            return False
        except Exception as exc:
            log.exception("processing failed at %s[%s]@%s", item.topic, item.partition, item.offset)
            self._reject(item, "processing", f"{type(exc).__name__}: {exc}")
            return False
        self.stats.events += 1
        if self.on_fold is not None:
            self.on_fold(item)
        if engine.sealed:  # windows the engine sealed at epoch boundaries while folding
            self.emit_sealed()
        return True

    def emit_sealed(self) -> None:
        """Emit the windows the engine sealed at epoch boundaries (while folding, or when
        the runtime moved stream time on: ``advance_time``)."""
        for out in self.engine.take_sealed():
            self._route(out)

    def process(self, event: Event) -> bool:
        """Fold one event directly (sources that are a single ordered stream already)."""
        return self.fold(Pending(event, None, None, "", None, None))

    def _reject(self, item: Pending, reason: DlqReason, message: str) -> None:
        rec = DlqRecord(
            source_topic=item.topic,
            partition=item.partition,
            offset=item.offset,
            error_type=reason,
            error=message,
            raw="",
        )
        self.dead_letter(rec, item.raw, item.key)

    def drain(self, seal: bool = True, everyone: bool = True, profiles: bool = True) -> Outputs:
        """Drain the engine (see :meth:`Processor.drain`) and emit the routed records."""
        out = self.engine.drain(seal=seal, everyone=everyone, profiles=profiles)
        self._route(out)
        return out

    def _route(self, out: Outputs) -> None:
        emit = self.emit
        for record in self.router.outputs(out):
            emit(record)
        self.stats.profiles += len(out.profiles)
        self.stats.alerts += len(out.alerts)


def feed_raw(
    driver: Driver,
    records: Iterable[tuple[str, bytes]],
    on_progress: Callable[[int], None] | None = None,
    every: int = 10_000,
) -> None:
    """Decode and fold ``(topic, raw)`` records that already come in event-time order
    (the simulator's merged stream); bad ones go to the DLQ."""
    done = 0
    for offset, (topic, raw) in enumerate(records):
        rec = decode(raw, topic, None, offset)
        if isinstance(rec, DlqRecord):
            driver.dead_letter(rec, raw)
        else:
            driver.fold(Pending(rec, raw, None, topic, None, offset))
        done += 1
        if on_progress is not None and done == every:
            on_progress(done)
            done = 0
    if on_progress is not None and done:
        on_progress(done)
