"""Restore benchmark: how fast a partition's state comes back from the changelog.

A simulated shop is folded into one engine; its checkpoint is written to a changelog topic
on a broker in ``copies`` commit cycles that change every user, then one that changes 49 % of
them, with the snapshots the writer's schedule takes and a marker per partition per cycle.
That leaves, per partition, the last snapshot followed by per-user records for almost half
its users: the most a restore reads before the next snapshot is due (runtime/snapshots.py;
Tansu does not compact, so every older value is in the topic too). Then the three stages of
a restore are timed one after the other, as ``Runner._on_assigned`` runs them: read the
changelog (last markers, their snapshots and the per-user records after them), load the
users into a fresh engine, and replace the local SQLite copy. Users per second are quoted
per stage and for the whole.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from insight_stream.bench.kafka import broker
from insight_stream.processor import Processor
from insight_stream.processor.driver import Driver, feed_raw
from insight_stream.processor.partitioning import partition_for
from insight_stream.processor.snapshot import gc_paused
from insight_stream.runtime.changelog import Changelog
from insight_stream.runtime.checkpoint import CheckpointStore
from insight_stream.runtime.config import load_config
from insight_stream.runtime.sink import KafkaSink
from insight_stream.sim import Shop, SimConfig

PARTITIONS = 4


def _state(users: int, days: int, seed: int) -> tuple[dict[str, bytes], bytes]:
    engine = Processor()
    driver = Driver(engine, lambda record: None)
    feed_raw(driver, Shop(SimConfig(users=users, days=days, seed=seed)).events())
    driver.drain(seal=True)
    ck = engine.checkpoint()
    return {u: b for u, b in ck.users.items() if b is not None}, ck.shared


def bench_restore(
    users: int = 20_000,
    days: int = 30,
    seed: int = 1,
    copies: int = 2,
    bootstrap: str | None = None,
) -> dict[str, Any]:
    """Time one restore of every partition; returns users/s per stage and overall."""
    blobs, shared = _state(users, days, seed)
    placed = {u: (partition_for(u, PARTITIONS), b) for u, b in blobs.items()}
    parts = set(range(PARTITIONS))
    with broker(bootstrap) as servers, tempfile.TemporaryDirectory() as tmp:
        cfg = load_config(
            {}, {"bootstrap_servers": servers, "group_id": f"bench-restore-{time.time_ns()}"}
        )
        sink = KafkaSink(cfg)
        log = Changelog(cfg, sink, "bench")
        # the writer's cycles as Runner.commit_cycle runs them, snapshots included
        with CheckpointStore(Path(tmp) / "writer", cfg.input_topics) as own:
            tail = dict(list(placed.items())[: len(placed) * 49 // 100])
            for cycle, changed in enumerate([placed] * copies + [tail], 1):
                log.write(changed, shared, parts, cycle, own)
                sink.flush()
                log.mark(parts, cycle, {}, {})
                sink.flush()
                own.save(changed, shared, {}, {}, cycle)
        sink.close()

        reader = Changelog(cfg, KafkaSink(cfg), "reader")
        with gc_paused():  # as Rebalance._restore_from_changelog and Processor.restore
            t0 = time.perf_counter()
            got = reader.restore(parts, True, reader.last_markers(parts))
            t1 = time.perf_counter()
            engine = Processor()
            engine.restore(((u, b) for u, (_, b) in got.users.items()), got.shared)
            t2 = time.perf_counter()
            with CheckpointStore(Path(tmp) / "reader", cfg.input_topics) as store:
                store.replace_partitions(got.partitions, got.users, got.offsets, got.applied)
            t3 = time.perf_counter()
        reader.sink.close()
    n = len(got.users)
    if n != len(blobs):
        raise RuntimeError(f"restore returned {n} users of {len(blobs)}")
    stages = {"read_changelog": t1 - t0, "load_engine": t2 - t1, "write_sqlite": t3 - t2}
    return {
        "users": n,
        "records": got.records,
        "bytes_per_user": round(sum(len(b) for b in blobs.values()) / max(1, n)),
        "seconds": {k: round(v, 3) for k, v in stages.items()},
        "users_per_s": {k: round(n / v) for k, v in stages.items() if v > 0},
        "total_users_per_s": round(n / (t3 - t0)),
    }
