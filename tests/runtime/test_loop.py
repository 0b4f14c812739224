"""The run loop with fakes: outputs, DLQ, checkpoint + offsets, failure paths, restore."""

from __future__ import annotations

import pickle
import time
from pathlib import Path
from typing import Any

import orjson
from kafka import TopicPartition
from kafka.errors import KafkaConnectionError, MessageSizeTooLargeError

from insight_stream.runtime.checkpoint import CheckpointStore
from insight_stream.runtime.config import load_config
from insight_stream.runtime.loop import Runner
from insight_stream.runtime.metrics import Metrics
from insight_stream.runtime.sink import KafkaSink

TPS = [TopicPartition("shop.clickstream", 0), TopicPartition("shop.orders", 0)]


def ev(uid: str, n: int) -> bytes:
    return orjson.dumps(
        {"event_id": f"e{n}", "user_id": uid, "type": "login", "ts": 1_700_000_000_000 + n}
    )


def make(
    tmp_path: Path, fakes: Any, batches: list, producer: Any = None, **env: str
) -> tuple[Runner, Any]:
    cfg = load_config(
        {
            "INSIGHT_STATE_DIR": str(tmp_path),
            "INSIGHT_PRODUCE_TIMEOUT_S": "1",
            "INSIGHT_MAX_TASK_IDLE_MS": "0",
            **env,
        }
    )
    source = fakes.FakeSource(TPS, batches)
    metrics = Metrics()
    sink = KafkaSink(
        cfg,
        producer=producer or fakes.FakeProducer(),
        on_error=lambda op, e: metrics.broker_errors.labels(operation=op).inc(),
    )
    store = CheckpointStore(tmp_path, cfg.input_topics)
    runs = {"left": len(batches) + 1}

    def until(_r: Runner) -> bool:
        runs["left"] -= 1
        return runs["left"] <= 0

    runner = Runner(cfg, fakes.CountingProcessor(), source, sink, store, metrics, until=until)
    return runner, store


def test_batch_is_processed_published_checkpointed_and_committed(
    tmp_path: Path, fakes: Any
) -> None:
    R = fakes.Rec
    batch = [R("shop.clickstream", 0, i, b"u1", ev("u1", i)) for i in range(3)]
    batch += [
        R("shop.orders", 0, 0, b"u2", ev("u2", 9)),
        R("shop.orders", 0, 1, b"k", b"{not json"),
    ]
    runner, store = make(tmp_path, fakes, [batch])
    producer = runner.sink.producer
    assert runner.run() == 0
    by_topic: dict[str, list] = {}
    for topic, key, value, headers in producer.sent:
        by_topic.setdefault(topic, []).append((key, value, headers))
    assert {k: orjson.loads(v)["n"] for k, v, _ in by_topic["insight.profiles"]} == {
        b"u1": 3,
        b"u2": 1,
    }
    assert [k for k, _, _ in by_topic["insight.churn-alerts"]] == [b"u1"]
    [(key, value, headers)] = by_topic["insight.dlq"]
    assert (key, value) == (b"k", b"{not json")  # raw bytes, not base64
    h = dict(headers)
    assert (h["source_topic"], h["source_partition"], h["source_offset"], h["error_type"]) == (
        b"shop.orders",
        b"0",
        b"1",
        b"decode",
    )
    assert h["error_message"]
    assert store.load_offsets() == {("shop.clickstream", 0): 3, ("shop.orders", 0): 2}
    assert store.load_applied() == {("shop.clickstream", 0): 3, ("shop.orders", 0): 1}
    assert sorted((u, p, pickle.loads(b)) for u, p, b in store.load_users([0])) == [
        ("u1", 0, 3),
        ("u2", 0, 1),
    ]
    assert runner.source.commits[-1] == {("shop.clickstream", 0): 3, ("shop.orders", 0): 2}
    text = runner.metrics.render().decode()
    assert 'insight_stream_dlq_records_total{reason="decode"} 1.0' in text
    assert 'insight_stream_events_consumed_total{topic="shop.clickstream"} 3.0' in text
    assert "insight_stream_profiles_published_total 2.0" in text
    assert 'insight_stream_segment_users{segment="0"} 2.0' in text


def test_engine_exception_goes_to_dlq_and_loop_continues(tmp_path: Path, fakes: Any) -> None:
    R = fakes.Rec
    runner, store = make(
        tmp_path,
        fakes,
        [
            [
                R("shop.clickstream", 0, 0, b"boom", ev("boom", 0)),
                R("shop.clickstream", 0, 1, b"u1", ev("u1", 1)),
            ]
        ],
    )
    assert runner.run() == 0
    dlq = [s for s in runner.sink.producer.sent if s[0] == "insight.dlq"]
    assert dict(dlq[0][3])["error_type"] == b"processing"
    assert store.load_offsets()[("shop.clickstream", 0)] == 2


def test_produce_that_keeps_failing_stops_without_committing(tmp_path: Path, fakes: Any) -> None:
    R = fakes.Rec
    producer = fakes.FakeProducer(fail={"insight.profiles": MessageSizeTooLargeError("too big")})
    runner, store = make(
        tmp_path, fakes, [[R("shop.clickstream", 0, 0, b"u1", ev("u1", 0))]], producer
    )
    assert runner.run() == 3
    assert store.load_offsets() == {}
    assert list(store.load_users([0])) == []
    assert runner.source.commits == []
    assert runner.source.closed


def test_transient_produce_errors_are_retried_and_counted(tmp_path: Path, fakes: Any) -> None:
    R = fakes.Rec
    producer = fakes.FakeProducer(
        fail={"insight.profiles": KafkaConnectionError("down")}, fail_times=2
    )
    runner, store = make(
        tmp_path,
        fakes,
        [[R("shop.clickstream", 0, 0, b"u1", ev("u1", 0))]],
        producer,
        INSIGHT_PRODUCE_TIMEOUT_S="30",
    )
    assert runner.run() == 0
    assert [s[0] for s in producer.sent] == ["insight.profiles"]
    assert store.load_offsets() == {("shop.clickstream", 0): 1}
    assert (
        'insight_stream_broker_errors_total{operation="produce"} 2.0'
        in runner.metrics.render().decode()
    )


def test_restart_restores_state_and_seeks_to_checkpoint(tmp_path: Path, fakes: Any) -> None:
    R = fakes.Rec
    runner, store = make(
        tmp_path, fakes, [[R("shop.clickstream", 0, i, b"u1", ev("u1", i)) for i in range(2)]]
    )
    assert runner.run() == 0
    store.close()
    runner2, _store2 = make(tmp_path, fakes, [[R("shop.clickstream", 0, 2, b"u1", ev("u1", 2))]])
    assert runner2.run() == 0
    assert runner2.source.seeks == {("shop.clickstream", 0): 2, ("shop.orders", 0): None}
    assert runner2.processor.restored == ["u1"]
    assert runner2.processor.counts["u1"] == 3


def test_revoked_partitions_are_committed_then_forgotten(tmp_path: Path, fakes: Any) -> None:
    R = fakes.Rec
    runner, store = make(tmp_path, fakes, [[R("shop.clickstream", 0, 0, b"u1", ev("u1", 0))]])
    runner.source.subscribe(runner._on_revoked, runner._on_assigned)
    runner._step(runner.source.poll(0))  # assigns, then returns the batch
    runner._on_revoked(set(TPS))
    assert store.load_offsets() == {("shop.clickstream", 0): 1}  # committed before giving it up
    runner._on_assigned({TopicPartition("shop.clickstream", 1), TopicPartition("shop.orders", 1)})
    assert runner.processor.forgotten == ["u1"] and runner.owner == {}
    assert runner.fatal is None


def test_merge_waits_for_a_partition_behind_and_folds_in_event_time_order(
    tmp_path: Path, fakes: Any
) -> None:
    """A backlog whose orders arrive a poll after the clicks: the earlier order goes first."""
    R = fakes.Rec
    clicks = [R("shop.clickstream", 0, i, b"u1", ev("u1", 10 + i)) for i in range(3)]
    orders = [
        R("shop.orders", 0, 0, b"u2", ev("u2", 5)),
        R("shop.orders", 0, 1, b"u3", ev("u3", 11)),
    ]
    runner, _store = make(tmp_path, fakes, [clicks, orders])
    runner.source.subscribe(runner._on_revoked, runner._on_assigned)
    runner._step(runner.source.poll(0))
    assert runner.processor.seen == []  # shop.orders[0] is behind its high watermark: wait
    runner._step(runner.source.poll(0))
    assert runner.processor.seen == ["e5", "e10", "e11", "e11", "e12"]
    # positions: nothing buffered any more, everything fetched is folded
    assert runner.tasks.positions() == {("shop.clickstream", 0): 3, ("shop.orders", 0): 2}


def test_full_buffer_pauses_the_partition_until_it_drains(tmp_path: Path, fakes: Any) -> None:
    R = fakes.Rec
    clicks = [R("shop.clickstream", 0, i, b"u1", ev("u1", 100 + i)) for i in range(30)]
    runner, _ = make(
        tmp_path,
        fakes,
        [clicks, [R("shop.orders", 0, 0, b"u2", ev("u2", 1))]],
        INSIGHT_MAX_BUFFERED="20",
    )
    runner.source.subscribe(runner._on_revoked, runner._on_assigned)
    runner._step(runner.source.poll(0))
    assert runner.source.paused == {("shop.clickstream", 0)}  # 30 buffered >= 20, orders behind
    assert runner.tasks.positions()[("shop.clickstream", 0)] == 0  # nothing folded yet
    runner._step(runner.source.poll(0))
    assert runner.source.paused == set() and len(runner.processor.seen) == 31


def test_commit_cycle_times_produce_checkpoint_and_commit_apart(tmp_path: Path, fakes: Any) -> None:
    R = fakes.Rec
    runner, _ = make(tmp_path, fakes, [[R("shop.clickstream", 0, 0, b"u1", ev("u1", 0))]])
    assert runner.run() == 0
    text = runner.metrics.render().decode()
    for name in ("produce_latency", "checkpoint_duration", "commit_duration"):
        line = f"insight_stream_{name}_seconds_count "
        (count,) = [float(x.split()[1]) for x in text.splitlines() if x.startswith(line)]
        assert count >= 1, name


def test_flush_latency_is_measured_only_when_something_was_sent(tmp_path: Path, fakes: Any) -> None:
    cfg = load_config({"INSIGHT_STATE_DIR": str(tmp_path)})
    sink = KafkaSink(cfg, producer=fakes.FakeProducer())
    sink.flush()
    assert sink.flush_latency_s is None
    sink.send("insight.profiles", b"u1", b"{}")
    sink.flush()
    first = sink.flush_latency_s
    assert first is not None and first >= 0
    sink.flush()
    assert sink.flush_latency_s is None  # the next flush starts from its own first record


def test_live_input_commits_at_the_live_interval_and_a_backlog_at_the_long_one(
    tmp_path: Path, fakes: Any
) -> None:
    R = fakes.Rec
    waits: dict[str, float] = {}
    for case in ("live", "backlog"):
        batch = [R("shop.clickstream", 0, i, b"u1", ev("u1", i)) for i in range(3)]
        runner, _ = make(
            tmp_path / case,
            fakes,
            [batch],
            INSIGHT_COMMIT_INTERVAL_MS="600000",
            INSIGHT_LIVE_COMMIT_INTERVAL_MS="50",
        )
        if case == "backlog":  # the log holds far more than one window beyond what was fetched
            runner.source._ends[("shop.clickstream", 0)] = 1_000_000

        def until(r: Runner, case: str = case) -> bool:
            if not r.tasks.positions():
                return False
            start = time.monotonic()
            r.commit_cycle()
            waits[case] = r._next_commit - start
            return True

        runner.until = until
        assert runner.run() == 0
    assert waits["live"] <= 0.05 + 0.01
    assert waits["backlog"] >= 599
