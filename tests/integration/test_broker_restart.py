"""The broker goes away and comes back *empty* while the processor runs (Tansu's memory
storage loses everything on restart, like a cluster restored without its data).

The checkpoint's offsets then lie beyond the end of the recreated input topics. By default
(``INSIGHT_ON_OFFSET_LOSS=fail``) the processor stops with exit 4 and names the partition,
instead of idling or silently re-reading; with ``reset-earliest`` it keeps its state, reads
the recreated partitions from their start and stays healthy.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from insight_stream.runtime.broker import EmbeddedBroker
from insight_stream.sim import Shop, SimConfig

from .support import Proc, feed_shop, runtime_env

pytestmark = pytest.mark.integration


def _first_half_then_empty_broker(
    start_processor: Any, tmp_path: Path, broker: EmbeddedBroker, prefix: str, **extra: str
) -> tuple[Proc, list[tuple[str, bytes]]]:
    events = list(Shop(SimConfig(users=200, days=30, seed=5)).events())
    fed_a, _ = feed_shop(broker.bootstrap, prefix, users=1, events=events[: len(events) // 2])
    proc = start_processor(
        runtime_env(
            broker.bootstrap,
            prefix,
            tmp_path / "state",
            INSIGHT_COMMIT_INTERVAL_MS="100",
            **extra,
        )
    )
    proc.wait_consumed(fed_a.total)
    proc.wait_for(lambda: proc.metric("insight_stream_settled") == 1, "first half settled")
    broker.stop()
    proc.wait_for(
        lambda: proc.metric("insight_stream_broker_errors_total") > 0,
        "broker errors counted while the broker is down",
    )
    broker.start()  # same port, empty memory storage
    return proc, events


def test_broker_that_lost_its_data_stops_the_processor_naming_the_partition(
    start_processor: Any, tmp_path: Path
) -> None:
    prefix = f"lost{os.getpid()}"
    with EmbeddedBroker() as broker:
        proc, events = _first_half_then_empty_broker(start_processor, tmp_path, broker, prefix)
        feed_shop(broker.bootstrap, prefix, users=1, events=events[:50])  # topics recreated
        assert proc.wait(60) == 4
    log = proc.log()
    # the offsets lie past the new ends, and the topics carry new ids: either is named
    assert "beyond the end of" in log or "was recreated" in log
    assert f"{prefix}." in log and "INSIGHT_ON_OFFSET_LOSS" in log
    assert "stopped cleanly" not in log


def test_reset_earliest_policy_reads_the_recreated_topics_and_stays_healthy(
    start_processor: Any, tmp_path: Path
) -> None:
    prefix = f"reset{os.getpid()}"
    with EmbeddedBroker() as broker:
        proc, events = _first_half_then_empty_broker(
            start_processor, tmp_path, broker, prefix, INSIGHT_ON_OFFSET_LOSS="reset-earliest"
        )
        before = proc.metric("insight_stream_events_consumed_total")
        feed_shop(broker.bootstrap, prefix, users=1, events=events[:50])
        proc.wait_for(
            lambda: proc.metric("insight_stream_events_consumed_total") >= before + 50,
            "the recreated partitions read from their start",
        )
        assert proc.p.poll() is None and proc.get("/healthz")[0] == 200
        assert proc.metric("insight_stream_broker_errors_total", operation="offset_loss") >= 1
        assert proc.terminate(timeout=15) == 0


def test_input_topic_recreated_and_refilled_past_the_offsets_is_noticed(
    start_processor: Any, tmp_path: Path
) -> None:
    """Offsets alone cannot tell: the new topic holds *more* records than the checkpoint's
    offsets. The topic id can (kept in the checkpoint): exit 4 naming the topic; with
    ``reset-earliest`` the recreated topic is read from its start."""
    from kafka import KafkaAdminClient

    prefix = f"recreate{os.getpid()}"
    events = list(Shop(SimConfig(users=120, days=20, seed=8)).events())
    with EmbeddedBroker() as broker:
        fed, _ = feed_shop(broker.bootstrap, prefix, users=1, events=events[:300])
        env = runtime_env(broker.bootstrap, prefix, tmp_path / "state")
        proc = start_processor(env)
        proc.wait_consumed(fed.total)
        proc.wait_for(lambda: proc.metric("insight_stream_settled") == 1, "first part settled")
        assert proc.terminate(timeout=20) == 0
        admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap)
        try:
            admin.delete_topics([f"{prefix}.clickstream", f"{prefix}.orders"])
        finally:
            admin.close()
        refill, _ = feed_shop(broker.bootstrap, prefix, users=1, events=events)  # > 300
        proc = start_processor(env)
        assert proc.wait(60) == 4
        log = proc.log()
        assert "was recreated" in log and f"{prefix}.orders" in log
        assert "stopped cleanly" not in log
        proc = start_processor({**env, "INSIGHT_ON_OFFSET_LOSS": "reset-earliest"})
        proc.wait_consumed(refill.total)  # the whole new topic, from its start
        assert proc.p.poll() is None
        assert proc.terminate(timeout=20) == 0
