"""Fakes for unit-testing the loop and sink without a broker or the real engine."""

from __future__ import annotations

import pickle
from collections import namedtuple
from dataclasses import dataclass, field
from typing import Any

import pytest
from kafka import TopicPartition
from kafka.future import Future

Rec = namedtuple("Rec", "topic partition offset key value")


@dataclass
class FakeOutputs:
    profiles: dict[str, Any] = field(default_factory=dict)
    alerts: list[dict[str, Any]] = field(default_factory=list)

    def __len__(self) -> int:  # as the engine's Outputs: records to publish
        return len(self.profiles) + len(self.alerts)


@dataclass
class FakeCheckpoint:
    users: dict[str, bytes | None]
    shared: bytes


class CountingProcessor:
    """Counts events per user; checkpoint/restore like the Processor contract."""

    def __init__(self) -> None:
        self.stream_time = 0
        self.pending = 0
        self.counts: dict[str, int] = {}
        self.seen: list[str] = []
        self.changed: set[str] = set()
        self.restored: list[str] = []
        self.forgotten: list[str] = []
        self.seal_every = 10_000  # the Driver sets its flush_events
        self.sealed: list[FakeOutputs] = []

    def process(self, ev: Any, source: tuple[str, int] = ("", 0)) -> None:
        if ev.user_id == "boom":
            raise RuntimeError("engine bug")
        self.counts[ev.user_id] = self.counts.get(ev.user_id, 0) + 1
        self.changed.add(ev.user_id)
        self.seen.append(ev.event_id)
        self.pending += 1
        self.stream_time = max(self.stream_time, ev.ts)
        if self.pending >= self.seal_every:  # a window per seal_every records (no epochs here)
            self.pending = 0
            self.sealed.append(self.drain(seal=True))

    def take_sealed(self) -> list[FakeOutputs]:
        sealed, self.sealed = self.sealed, []
        return sealed

    def population_due(self, at: int) -> bool:
        return False  # no population refits

    def drain(self, seal: bool = True, everyone: bool = True, profiles: bool = True) -> FakeOutputs:
        out = FakeOutputs({u: {"user_id": u, "n": self.counts[u]} for u in sorted(self.changed)})
        out.alerts = [
            {"user_id": u, "alert_id": f"a-{u}"}
            for u in sorted(self.changed)
            if self.counts[u] == 3
        ]
        return out

    def checkpoint(self) -> FakeCheckpoint:
        users = {u: pickle.dumps(self.counts[u]) for u in self.changed}
        self.changed = set()
        return FakeCheckpoint(users, pickle.dumps(sum(self.counts.values())))

    def restore(self, users: Any, shared: bytes | None, republish: bool = False) -> None:
        for uid, blob in users:
            self.counts[uid] = pickle.loads(blob)
            self.restored.append(uid)

    def forget(self, user_ids: Any) -> None:
        for u in user_ids:
            self.counts.pop(u, None)
            self.forgotten.append(u)

    def advance_time(self, now_ms: int) -> None:
        pass

    def stats(self) -> dict[str, Any]:
        return {
            "active_users": len(self.counts),
            "segment_sizes": {0: len(self.counts)},
            "refits": {"churn": 1},
            "churn_risk_histogram": [len(self.counts)] + [0] * 9,
            "quality": {"recs_hit_rate_at_10": 0.5},
            "coverage": 0.25,
        }


class FakeSource:
    """Hands out queued batches; the first poll assigns ``partitions``."""

    def __init__(self, partitions: list[TopicPartition], batches: list[list[Rec]]) -> None:
        self.partitions, self.batches = partitions, list(batches)
        self.seeks: dict[tuple[str, int], int | None] = {}
        self.commits: list[dict[tuple[str, int], int]] = []
        self.paused: set[tuple[str, int]] = set()
        self.closed = False
        self._assigned = False
        self._ends: dict[tuple[str, int], int] = {}
        for batch in batches:
            for r in batch:
                key = (r.topic, r.partition)
                self._ends[key] = max(self._ends.get(key, 0), r.offset + 1)

    def subscribe(self, on_revoked: Any, on_assigned: Any) -> None:
        self.on_revoked, self.on_assigned = on_revoked, on_assigned

    def poll(self, timeout_ms: int) -> dict[TopicPartition, list[Rec]]:
        if not self._assigned:
            self._assigned = True
            self.on_assigned(set(self.partitions))
        if not self.batches:
            return {}
        out: dict[TopicPartition, list[Rec]] = {}
        for r in self.batches.pop(0):
            out.setdefault(TopicPartition(r.topic, r.partition), []).append(r)
        return out

    def topic_ids(self) -> dict[str, str]:
        return {}  # topic recreation is tested against the real broker

    def seek(self, tp: TopicPartition, offset: int | None) -> None:
        self.seeks[(tp.topic, tp.partition)] = offset

    def commit(self, offsets: dict[tuple[str, int], int]) -> None:
        self.commits.append(dict(offsets))

    commit_async = commit

    def lag(self, positions: dict[tuple[str, int], int]) -> dict[tuple[str, int], int]:
        return {k: 0 for k in positions}

    def last_contact(self) -> float | None:
        return None  # broker contact comes from the records handed out

    def highwaters(self) -> dict[tuple[str, int], int | None]:
        """The log end of every assigned partition: all queued batches count as written."""
        return {k: self._ends.get(k, 0) for k in self.assigned()}

    def pause(self, keys: Any) -> None:
        self.paused |= set(keys)

    def resume(self, keys: Any) -> None:
        self.paused -= set(keys)

    def assigned(self) -> set[tuple[str, int]]:
        return {(tp.topic, tp.partition) for tp in self.partitions} if self._assigned else set()

    def close(self) -> None:
        self.closed = True


class FakeProducer:
    """Records sends; ``fail`` maps topic -> exception every future for it fails with."""

    def __init__(self, fail: dict[str, Exception] | None = None, fail_times: int = 10**9) -> None:
        self.sent: list[tuple[str, bytes | None, bytes | None, Any]] = []
        self.fail = fail or {}
        self.fail_times = fail_times

    def send(
        self,
        topic: str,
        value: bytes | None = None,
        key: bytes | None = None,
        headers: Any = None,
        partition: int | None = None,
    ) -> Future:
        fut = Future()
        if topic in self.fail and self.fail_times > 0:
            self.fail_times -= 1
            fut.failure(self.fail[topic])
        else:
            self.sent.append((topic, key, value, headers))
            fut.success(None)
        return fut

    def flush(self, timeout: float | None = None) -> None:
        pass

    def close(self, timeout: float | None = None) -> None:
        pass


@pytest.fixture
def fakes() -> Any:
    class NS:
        Rec, CountingProcessor, FakeSource, FakeProducer = (
            Rec,
            CountingProcessor,
            FakeSource,
            FakeProducer,
        )

    return NS
