"""End-to-end benchmark through a Kafka broker: the full engine next to a raw kafka-python loop.

Both read the same pre-produced input on the same broker in the same run, so the ratio
isolates what the engine and the runtime cost on top of kafka-python itself. The raw loop is
the floor any Python Kafka app pays: consume, a per-user count, one produced record per input.
Times start at the first fetched batch (group join and topic creation are excluded).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Iterator
from typing import Any

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from insight_stream.runtime.broker import EmbeddedBroker
from insight_stream.runtime.config import RuntimeConfig, load_config
from insight_stream.runtime.feeder import closing_producer, fast_producer, feed
from insight_stream.runtime.sink import producer_options


@contextlib.contextmanager
def broker(bootstrap: str | None) -> Iterator[str]:
    """``bootstrap`` if given, else an embedded Tansu broker for the duration."""
    if bootstrap:
        yield bootstrap
        return
    with EmbeddedBroker() as broker:
        yield broker.bootstrap


def bench_config(bootstrap: str, state_dir: str, prefix: str) -> RuntimeConfig:
    """Runtime settings of a bench run: fresh ``prefix``-named topics and group, a
    throwaway state directory, fast test timeouts; ``INSIGHT_*`` variables still apply
    (e.g. to compare settings)."""
    return load_config(
        {k: v for k, v in os.environ.items() if k.startswith("INSIGHT_")},
        {
            "bootstrap_servers": bootstrap,
            "state_dir": state_dir,
            "metrics_port": 0,
            "group_id": f"{prefix}.group",
            "session_timeout_ms": 3000,
            "heartbeat_interval_ms": 500,
            **{
                f"{k}_topic": f"{prefix}.{k}"
                for k in ("clickstream", "orders", "profiles", "alerts", "dlq")
            },
        },
    )


def raw_loop(
    bootstrap: str,
    topics: list[str],
    ends: dict[tuple[str, int], int],
    out_topic: str,
    batch: int = 5000,
) -> tuple[int, float]:
    """Consume to ``ends``, count per key, produce one record per input; (records, seconds)."""
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        max_poll_records=batch,
        fetch_max_bytes=64 << 20,
        max_partition_fetch_bytes=16 << 20,
    )
    cfg = load_config({}, {"bootstrap_servers": bootstrap})
    producer = KafkaProducer(**producer_options(cfg))
    tps = [TopicPartition(t, p) for t, p in ends]
    consumer.assign(tps)
    consumer.seek_to_beginning(*tps)
    counts: dict[bytes | None, int] = {}
    done = 0
    total = sum(ends.values())
    start = None
    try:
        while done < total:
            for recs in consumer.poll(timeout_ms=500, max_records=batch).values():
                if start is None:
                    start = time.perf_counter()
                for rec in recs:
                    n = counts[rec.key] = counts.get(rec.key, 0) + 1
                    producer.send(out_topic, key=rec.key, value=str(n).encode())
                done += len(recs)
        producer.flush()
        return done, time.perf_counter() - (start or time.perf_counter())
    finally:
        consumer.close()
        producer.close()


def run_kafka_bench(
    users: int, days: int, seed: int, bootstrap: str | None = None
) -> dict[str, Any]:
    """Events/s of the full engine through the broker vs the raw loop; prints a short report."""
    from insight_stream.processor import Processor
    from insight_stream.runtime.app import prepare_topics, run
    from insight_stream.sim import Shop, SimConfig

    prefix = f"bench{int(time.time() * 1000) % 10**9}"
    with broker(bootstrap) as bs, tempfile.TemporaryDirectory(prefix="insight-bench-") as state:
        cfg = bench_config(bs, state, prefix)
        prepare_topics(cfg)
        producer = fast_producer(bs)
        with closing_producer(producer):
            fed = feed(
                producer,
                Shop(SimConfig(users=users, days=days, seed=seed)).events(),
                cfg.topic_by_kind,
            )
        raw_n, raw_s = raw_loop(bs, list(cfg.input_topics), fed.end_offsets, f"{prefix}.raw-out")

        marks: dict[str, float] = {}

        def on_batch(n: int) -> None:
            marks.setdefault("first", time.perf_counter())
            marks.setdefault("first_n", n)

        processor = Processor(cfg.engine_config())
        ends = fed.end_offsets

        def folded_all(r: Any) -> bool:  # every record folded (the merge holds none back)
            positions = r.tasks.positions()
            return all(positions.get(k, 0) >= v for k, v in ends.items())

        code = run(cfg, processor=processor, on_batch=on_batch, until=folded_all)
        elapsed = time.perf_counter() - marks.get("first", time.perf_counter())
        measured = fed.total - int(marks.get("first_n", 0))
    events_per_s = measured / elapsed if elapsed > 0 else 0.0
    raw_per_s = raw_n / raw_s if raw_s > 0 else 0.0
    report = {
        "events": fed.total,
        "users": users,
        "days": days,
        "exit_code": code,
        "events_per_s": round(events_per_s),
        "raw_events_per_s": round(raw_per_s),
        "ratio": round(events_per_s / raw_per_s, 3) if raw_per_s else None,
        "produce_events_per_s": round(fed.total / fed.seconds) if fed.seconds else None,
        "broker": bootstrap or "embedded tansu",
    }
    print(f"kafka end-to-end: {fed.total:,} events, {users:,} users ({report['broker']})")
    print(f"  engine + runtime  {report['events_per_s']:>9,} events/s")
    print(
        f"  raw kafka-python  {report['raw_events_per_s']:>9,} events/s"
        " (consume + 1 produce per event)"
    )
    print(f"  ratio             {report['ratio']}")
    return report
