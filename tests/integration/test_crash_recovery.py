"""kill -9 of the processor mid-stream (twice), restart, and compare with an uninterrupted run.

Compared per user: fields that depend only on *which* events a user had, not on the order in
which the two input topics were interleaved (order counts, money, first/last seen). Global
models (segments, recommendation neighbours) legitimately depend on cross-partition
interleaving, so they are not compared. The checkpoint's per-partition count of applied
events is an exact audit: equal to the number of valid events means none lost, none twice.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from insight_stream.events import DlqRecord, decode
from insight_stream.runtime.reader import latest_by_key, read_topic

from .support import Proc, feed_shop, runtime_env, sum_metric

pytestmark = pytest.mark.integration

FIELDS = ("orders", "returns", "cancellations", "first_seen", "last_seen")


def deterministic(profile: dict[str, Any]) -> tuple[Any, ...]:
    rfm = profile["rfm"]
    return (*(profile[f] for f in FIELDS), rfm["frequency"], round(rfm["monetary"], 6))


def caught_up(proc: Proc) -> bool:
    _, text = proc.get("/metrics")
    lag_lines = [
        ln for ln in text.splitlines() if ln.startswith("insight_stream_consumer_lag_records{")
    ]
    return (
        sum_metric(text, "insight_stream_assigned_partitions") == 8
        and len(lag_lines) == 8
        and sum_metric(text, "insight_stream_consumer_lag_records") == 0
        and sum_metric(text, "insight_stream_commits_total") >= 1
    )


def test_kill_9_twice_then_restart_equals_clean_run(
    tansu_broker: str, start_processor: Any, tmp_path: Path
) -> None:
    prefix = f"crash{os.getpid()}"
    fed, shop = feed_shop(tansu_broker, prefix, users=800, seed=11, malformed_rate=0.01)
    valid = sum(not isinstance(decode(raw), DlqRecord) for _, raw in shop.events())

    def env(name: str, **extra: str) -> dict[str, str]:
        e = runtime_env(tansu_broker, prefix, tmp_path / name, **extra)
        e.update(
            {
                k: f"{prefix}.{name}.{k.split('_')[1].lower()}"
                for k in ("INSIGHT_PROFILES_TOPIC", "INSIGHT_ALERTS_TOPIC", "INSIGHT_DLQ_TOPIC")
            }
        )
        e["INSIGHT_GROUP_ID"] = f"{prefix}.{name}"
        return e

    clean = start_processor(env("clean"))
    clean.wait_for(lambda: caught_up(clean), "clean run caught up")
    assert clean.terminate(timeout=10) == 0

    crashy = env("crashy", INSIGHT_BATCH_SIZE="100", INSIGHT_COMMIT_INTERVAL_MS="50")
    first = start_processor(crashy)
    first.wait_consumed(fed.total // 4)
    first.kill9()
    second = start_processor(crashy)
    second.wait_consumed(fed.total // 4)
    second.kill9()
    third = start_processor(crashy)
    third.wait_for(lambda: caught_up(third), "restarted run caught up")
    assert third.terminate(timeout=10) == 0

    want = latest_by_key(read_topic(tansu_broker, f"{prefix}.clean.profiles"))
    got = latest_by_key(read_topic(tansu_broker, f"{prefix}.crashy.profiles"))
    assert set(got) == set(want)
    diff = {
        u: (deterministic(got[u]), deterministic(want[u]))
        for u in want
        if deterministic(got[u]) != deterministic(want[u])
    }
    assert not diff, list(diff.items())[:3]

    db = sqlite3.connect(tmp_path / "crashy" / "checkpoint.sqlite")
    try:
        applied = db.execute("SELECT SUM(applied) FROM offsets").fetchone()[0]
        offsets = {
            (t, p): o for t, p, o in db.execute("SELECT topic, partition, next_offset FROM offsets")
        }
    finally:
        db.close()
    assert applied == valid  # no event lost, none counted twice
    assert offsets == fed.end_offsets
