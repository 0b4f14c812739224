"""The Kafka side of the event-time merge: one merge source per assigned input partition.

The merge itself lives in the engine layer (:class:`~insight_stream.processor.merge.Merger`,
shared with file replays). This module holds what only Kafka has: the next offset of each
partition (the checkpoint's offsets are the first record *not yet folded*, so records
fetched but still buffered are read again after a crash), flow control (a partition whose
buffer is full is paused, and resumed once it has drained to half), and the bounded wait
for a partition that has nothing buffered (``INSIGHT_MAX_TASK_IDLE_MS``, as Kafka Streams'
``max.task.idle.ms``): a partition that is behind its high watermark is always waited for;
one that is caught up is waited for at most that long, counted from the later of its own
last delivery and the newest delivery the merge holds back, then the merge goes on without
it until it receives a record or the merge runs empty (then the next record waits for it
again). A live stream therefore folds
in replay's order as long as no partition delivers a record more than that wait after a
record of another partition with a later event time; each record that does is counted as
*folded behind* (``insight_stream_task_folded_behind_total``).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from insight_stream.events.decode import decode
from insight_stream.events.limits import DEFAULT_LIMITS, InputLimits
from insight_stream.events.outputs import DlqRecord
from insight_stream.events.pseudonym import Pseudonymizer
from insight_stream.processor.driver import Driver, Pending

Key = tuple[str, int]  # (topic, partition)
TaskReport = tuple[int, int, float, int]  # watermark ms, buffered, blocked s, folded behind


@dataclass
class _Partition:
    source: tuple[int, int]  # merge source: (topic index, partition), the replay's tie-break
    start: int | None  # offset the assignment started at (None: the beginning)
    fetched: int | None = None  # next offset after the last record received
    paused: bool = False
    arrived: float | None = None  # monotonic time its last records were received
    blocked_s: float = 0.0  # time the merge spent waiting for it, since the last report
    behind: int = 0  # its records folded behind a later one, since the last report
    newest_ts: int = 0  # newest event time folded from it
    checked: bool = False  # the first batch since the assignment started where it should

    @property
    def next_offset(self) -> int | None:
        """The next offset this partition will read (None: its beginning, not known yet)."""
        return self.fetched if self.fetched is not None else self.start


@dataclass
class InputTasks:
    """Buffers, offsets and waits of the assigned input partitions (loop thread only)."""

    driver: Driver
    topics: tuple[str, ...]
    max_buffered: int
    max_idle_ms: int
    limits: InputLimits = DEFAULT_LIMITS
    pseudonymizer: Pseudonymizer | None = None  # ids replaced here, before the merge
    parts: dict[Key, _Partition] = field(default_factory=dict)
    _by_source: dict[tuple[int, int], Key] = field(default_factory=dict)
    _newest: int = 0  # newest event time folded since the assignment, any partition

    def assign(self, starts: Mapping[Key, int | None]) -> None:
        """Start over on a new assignment: buffered records are dropped and read again."""
        merger = self.driver.merger
        for part in self.parts.values():
            merger.remove_source(part.source)
        index = {t: i for i, t in enumerate(self.topics)}
        self.parts = {
            key: _Partition((index[key[0]], key[1]), start) for key, start in starts.items()
        }
        self._by_source = {p.source: key for key, p in self.parts.items()}
        self._newest = 0
        for part in self.parts.values():
            merger.add_source(part.source)

    def misplaced(self, key: Key, first_offset: int) -> int | None:
        """The offset to seek ``key`` back to when its first batch since the assignment does
        not start at the assigned offset (records fetched before a rebalance, returned
        after it: folding them would skip the records in between); None when it fits."""
        part = self.parts.get(key)
        if part is None or part.checked:
            return None
        part.checked = True
        if part.start is not None and first_offset != part.start:
            return part.start
        return None

    def add(self, key: Key, records: Iterable[Any], now_ms: int | None = None) -> None:
        """Decode one partition's polled records: events into the merge, bad ones to the DLQ.

        ``now_ms`` is the wall clock for the future-timestamp check (the one place the
        wall clock judges event time).
        """
        part = self.parts.get(key)
        if part is None:
            return  # revoked between fetch and now
        driver, topic, p = self.driver, key[0], key[1]
        push, source = driver.push, part.source
        last = None
        limits = self.limits
        expect = part.next_offset
        pz = self.pseudonymizer
        for rec in records:
            if expect is not None and rec.offset < expect:
                continue  # already buffered or folded (a re-fetch after a seek)
            ev = decode(rec.value, topic, p, rec.offset, rec.key, limits=limits, now_ms=now_ms)
            last = rec
            if isinstance(ev, DlqRecord):
                driver.dead_letter(ev, rec.value, rec.key)
            else:
                if pz is not None:
                    ev = pz.event(ev)
                push(source, ev, rec.value, rec.key, topic, p, rec.offset)
        if last is not None:
            part.fetched = last.offset + 1
            part.arrived = time.monotonic()

    def beyond_end(self, highwaters: Mapping[Key, int | None]) -> dict[Key, int]:
        """Partitions whose next offset lies past their high watermark: the broker lost the
        records we already folded (restarted empty, topic recreated)."""
        lost = {}
        for key, part in self.parts.items():
            hw = highwaters.get(key)
            nxt = part.next_offset
            if hw is not None and nxt is not None and nxt > hw:
                lost[key] = nxt
        return lost

    def restart(self, key: Key) -> None:
        """Read ``key`` again from its beginning (after offset loss, by policy)."""
        part = self.parts.get(key)
        if part is None:
            return
        self.driver.merger.remove_source(part.source)  # its buffered records are stale
        self.driver.merger.add_source(part.source)
        part.start, part.fetched, part.arrived = None, None, None
        part.checked = False

    def folded(self, item: Pending) -> None:
        """Track the newest event time folded, and count records folded *behind*: in order
        within their partition, yet older than a record of another partition folded before.
        Replay never does that (its merge waits for every file), so each one is a record
        that arrived after its partition was released as idle: where live differs."""
        ts = item.event.ts
        part = self.parts.get((item.topic, item.partition or 0))
        if part is not None:
            if part.newest_ts <= ts < self._newest:
                part.behind += 1
            if ts > part.newest_ts:
                part.newest_ts = ts
        if ts > self._newest:
            self._newest = ts

    def positions(self) -> dict[Key, int]:
        """Next offset to read per partition such that the state reflects everything before."""
        head = self.driver.merger.head
        out = {}
        for key, part in self.parts.items():
            pending = head(part.source)
            offset = pending.offset if pending is not None else part.fetched
            if offset is None:
                offset = part.start
            if offset is not None:
                out[key] = offset
        return out

    def flow(self) -> tuple[list[Key], list[Key]]:
        """Partitions to pause (buffer full) and to resume (drained to half)."""
        buffered = self.driver.merger.buffered
        pause, resume = [], []
        for key, part in self.parts.items():
            n = buffered(part.source)
            if not part.paused and n >= self.max_buffered:
                part.paused = True
                pause.append(key)
            elif part.paused and n <= self.max_buffered // 2:
                part.paused = False
                resume.append(key)
        return pause, resume

    def release_idle(self, highwaters: Mapping[Key, int | None], elapsed_s: float) -> float:
        """Stop waiting for empty partitions caught up for ``max_idle_ms``.

        ``elapsed_s`` is the time since the previous call (charged to the partitions the
        merge is blocked on). Returns seconds until the next partition may be released
        (0 when none is waiting), so the loop can poll no longer than that.
        """
        merger, now = self.driver.merger, time.monotonic()
        soonest = 0.0
        if not len(merger):  # nothing held back: no wait is running, and none is owed yet
            merger.rearm()
            return soonest
        buffered = merger.buffered
        held = max(
            (p.arrived or 0.0 for p in self.parts.values() if buffered(p.source)), default=0.0
        )
        for source in merger.blocked():
            key = self._by_source.get(source)
            if key is None:
                continue
            part = self.parts[key]
            part.blocked_s += elapsed_s
            hw = highwaters.get(key)
            nxt = part.next_offset or 0
            if hw is None or nxt < hw:
                continue  # behind (or never fetched): wait for its records
            # the wait runs from the later of its own last delivery and the newest delivery
            # now held back: a record that just arrived waits the full time for it (live
            # input), while at the end of a backlog, fetched long ago, partitions are not
            # waited for again one after another as each buffer drains
            since = max(part.arrived or 0.0, held)
            left = since + self.max_idle_ms / 1000 - now
            if left <= 0:
                self.driver.close(source)
            elif soonest == 0.0 or left < soonest:
                soonest = left
        return soonest

    def caught_up(self, highwaters: Mapping[Key, int | None]) -> bool:
        """Nothing buffered, and every partition has been read up to its high watermark."""
        if not self.parts or len(self.driver.merger):
            return False
        for key, part in self.parts.items():
            hw = highwaters.get(key)
            nxt = part.next_offset or 0
            if hw is None or nxt < hw:
                return False
        return True

    def behind(self, highwaters: Mapping[Key, int | None]) -> int | None:
        """Records not folded yet: buffered in the merge plus not fetched yet (None: unknown,
        before the first fetch of a partition reported its high watermark)."""
        if not self.parts:
            return None
        total = len(self.driver.merger)
        for key, part in self.parts.items():
            hw = highwaters.get(key)
            if hw is None:
                return None
            total += max(0, hw - (part.next_offset or 0))
        return total

    def per_task(self) -> dict[int, TaskReport]:
        """Per partition number: newest folded event time, buffered records, and the
        blocked seconds and records folded behind *since the previous call*."""
        buffered = self.driver.merger.buffered
        out: dict[int, TaskReport] = {}
        for (_, p), part in self.parts.items():
            ts, n, blocked, behind = out.get(p, (0, 0, 0.0, 0))
            out[p] = (
                max(ts, part.newest_ts),
                n + buffered(part.source),
                blocked + part.blocked_s,
                behind + part.behind,
            )
            part.blocked_s, part.behind = 0.0, 0
        return out
