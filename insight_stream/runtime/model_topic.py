"""Shared models over Kafka: each instance's model-epoch ops go to ``<group>.model-ops``,
every instance reads all of them, so every instance applies the same ops in the same order.

The engine learns its shared models at hour boundaries of event time from queued ops
(:mod:`insight_stream.processor.epochs`). An instance that holds some of the input partitions
publishes, per owned partition *p*, on partition *p* of the model topic:

* ``start``: the first event time of *p* (None: *p* is empty and caught up), so a fresh group
  opens its first epoch where one engine folding everything would (the refit schedules are
  anchored there);
* ``ops``: *p* closed every epoch ending at or before ``through``: its ops of those epochs and
  its stream time. Published when the instance is about to fold past ``through``, or when it
  is caught up and a peer waits there (or has folded further);
* ``users``: *p*'s users at a boundary where a population refit runs (churn population,
  segment refinement), so every instance refits on the whole group's users.

Before folding past a boundary an instance waits until every partition closed it, then hands
its engine the union of the ops, merged by ``(epoch end, event time, topic, partition)``, the
drive loop's merge key. Records are deterministic, so a record published twice (a restart
re-folding what it had published) is dropped: per partition, only epochs after the one it
already closed are taken. An instance that owns every partition exchanges nothing.
"""

from __future__ import annotations

import heapq
import logging
import pickle
import time
from collections.abc import Callable, Iterable
from typing import Any

from kafka import KafkaConsumer, TopicPartition

from insight_stream.processor.epochs import Op
from insight_stream.runtime.config import RuntimeConfig
from insight_stream.runtime.sink import KafkaSink

log = logging.getLogger(__name__)

FORMAT = 1  # of the model topic's records


class ModelTopic:
    """Publishes this instance's epochs and gathers every partition's (one consumer, no group)."""

    def __init__(self, cfg: RuntimeConfig, sink: KafkaSink, partitions: int) -> None:
        self.topic, self.sink, self.n = cfg.model_topic, sink, partitions
        self.consumer = KafkaConsumer(
            **cfg.kafka_common(),
            client_id=f"{cfg.client_id}-models",
            group_id=None,
            enable_auto_commit=False,
            fetch_max_wait_ms=20,
            max_partition_fetch_bytes=16 << 20,
        )
        tps = [TopicPartition(self.topic, p) for p in range(partitions)]
        self.consumer.assign(tps)
        self.consumer.seek_to_beginning(*tps)
        self.closed: dict[int, int] = dict.fromkeys(range(partitions), 0)
        self.times: dict[int, int] = {}  # partition -> stream time of its last ops record
        self.starts: dict[int, int | None] = {}
        self.streams: dict[int, list[Op]] = {p: [] for p in range(partitions)}
        self.counts: dict[int, int] = {}  # epoch end -> records the group folded in it
        self.users: dict[int, dict[int, bytes]] = {}  # boundary -> partition -> users blob
        self.taken = 0  # ops of epochs ending at or before this were handed out (or applied)
        self.records = 0

    # -- writing ----------------------------------------------------------------------
    def _send(self, part: int, message: dict[str, Any]) -> None:
        value = bytes([FORMAT]) + pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        self.sink.send(self.topic, message["kind"].encode(), value, None, part)

    def publish_start(self, part: int, ts: int | None) -> None:
        self._send(part, {"kind": "start", "ts": ts})

    def publish_ops(
        self, part: int, through: int, ops: list[Op], counts: dict[int, int], stream_time: int
    ) -> None:
        """``counts``: records the partition folded per epoch end (coalescing windows)."""
        self._send(
            part,
            {"kind": "ops", "through": through, "ops": ops, "counts": counts, "time": stream_time},
        )

    def publish_users(self, part: int, at: int, users: bytes) -> None:
        self._send(part, {"kind": "users", "at": at, "users": users})

    # -- reading ----------------------------------------------------------------------
    def poll(self, timeout_ms: int = 0) -> int:
        """Read what arrived; returns how many records."""
        n = 0
        for tp, recs in self.consumer.poll(timeout_ms=timeout_ms).items():
            for rec in recs:
                self._take_record(tp.partition, rec.value)
            n += len(recs)
        self.records += n
        return n

    def _take_record(self, part: int, value: bytes) -> None:
        if value[0] != FORMAT:
            raise RuntimeError(f"{self.topic}[{part}]: record format {value[0]}, expected {FORMAT}")
        msg = pickle.loads(value[1:])
        kind = msg["kind"]
        if kind == "start":
            self.starts.setdefault(part, msg["ts"])
            if msg["ts"] is not None and self.starts[part] is None:
                self.starts[part] = msg["ts"]
        elif kind == "ops":
            done = max(self.closed[part], self.taken)
            if msg["through"] > self.closed[part]:
                self.streams[part].extend(op for op in msg["ops"] if op[0] > done)
                for end, n in msg["counts"].items():
                    if end > done:
                        self.counts[end] = self.counts.get(end, 0) + n
                self.closed[part] = msg["through"]
            self.times[part] = max(self.times.get(part, 0), msg["time"])
        elif msg["at"] > self.taken - 1:
            self.users.setdefault(msg["at"], {}).setdefault(part, msg["users"])

    def wait(self, ready: Callable[[], bool], what: str, stop: Callable[[], bool]) -> None:
        """Poll until ``ready()``; logs what it waits for every 30 s (a peer may be down)."""
        t0 = last = time.monotonic()
        while not ready() and not stop():
            self.poll(100)
            if time.monotonic() - last > 30:
                last = time.monotonic()
                log.warning("waiting %.0fs for the group: %s", last - t0, what)

    # -- the group's view ---------------------------------------------------------------
    def group_start(self) -> int | None:
        """The first event time of the group once every partition said; None before."""
        if len(self.starts) < self.n:
            return None
        known = [ts for ts in self.starts.values() if ts is not None]
        return min(known) if known else None

    def closed_through(self, boundary: int) -> bool:
        return all(c >= boundary for c in self.closed.values())

    def furthest(self) -> tuple[int, int]:
        """The latest epoch any partition closed, and the newest stream time reported."""
        return max(self.closed.values()), max(self.times.values(), default=0)

    def take(self, boundary: int) -> tuple[list[Op], dict[int, int]]:
        """Every partition's ops of the epochs ending at or before ``boundary``, merged, and
        the group's record count of each of those epochs."""
        streams: list[list[Op]] = []
        for part, ops in self.streams.items():
            k = 0
            while k < len(ops) and ops[k][0] <= boundary:
                k += 1
            head, self.streams[part] = ops[:k], ops[k:]
            by_topic: dict[str, list[Op]] = {}
            for op in head:
                by_topic.setdefault(op[1][1], []).append(op)
            streams.extend(by_topic.values())
        self.taken = max(self.taken, boundary)
        for at in [at for at in self.users if at < boundary]:
            del self.users[at]
        counts = {end: n for end, n in self.counts.items() if end <= boundary}
        for end in counts:
            del self.counts[end]
        return list(heapq.merge(*streams, key=lambda op: (op[0], op[1]))), counts

    def population(self, boundary: int) -> dict[int, bytes] | None:
        """Every partition's users at ``boundary``, once all arrived."""
        got = self.users.get(boundary, {})
        return got if len(got) == self.n else None

    def skip_to(self, boundary: int) -> None:
        """Epochs up to ``boundary`` are already in the engine's models (a restored state)."""
        self.taken = max(self.taken, boundary)
        for part in self.streams:
            self.streams[part] = [op for op in self.streams[part] if op[0] > boundary]
        self.counts = {end: n for end, n in self.counts.items() if end > boundary}

    def close(self) -> None:
        self.consumer.close()


def split_by_partition(ops: Iterable[Op], parts: Iterable[int]) -> dict[int, list[Op]]:
    """``{partition: its ops}`` for ``parts`` (an op names its source partition)."""
    out: dict[int, list[Op]] = {p: [] for p in parts}
    for op in ops:
        mine = out.get(op[1][2])
        if mine is not None:
            mine.append(op)
    return out
