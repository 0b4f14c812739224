"""Event-to-profile latency through Kafka at a steady produce rate (``bench --kafka --rate``).

What is measured, exactly:

* The shop's events are generated up front (outside any timing), then a producer thread
  sends them at ``rate`` events/s, paced by the wall clock (the producer side only; the
  engine is never throttled). Each record gets an explicit Kafka timestamp (CreateTime)
  = the wall-clock millisecond of its ``send``, and the bench remembers it per
  ``(user_id, event ts)``; when one user has several events with the same ``ts`` the
  *first* send time is kept (the profile reflects at least that one).
* The full ``run`` pipeline (same code as ``insight-stream run``) consumes, folds and
  publishes coalesced profiles at its commit cycles.
* A consumer thread on the profile topic maps each profile record to the newest input it
  reflects: its ``user_id`` and ``updated_at`` (the newest event ts folded for that user).
  Only the first profile for each ``(user_id, updated_at)`` counts (a republished profile
  of the same state was not caused by a new input). Profiles whose ``updated_at`` matches
  no input (an inactivity timer moved it) are counted as ``unmatched`` and skipped.
* Latency = output time - the input's CreateTime, with two output times:
  ``latency_ms`` uses the profile record's own Kafka timestamp (CreateTime stamped by the
  runtime's producer at ``send``, just before the broker acknowledges it: a lower bound of
  the ack time), ``seen_latency_ms`` the wall clock at which the bench's profile consumer
  received it (after the ack, plus the bench consumer's own fetch delay: an upper bound).
  Producer, engine and bench consumer share one process and one machine, so one clock.
* Lag: input records produced but not yet folded, sampled at every runner loop; reported
  at the moment the producer finished and as the maximum, with the seconds the engine
  needed after the last send to fold everything (``catch_up_s``).
"""

from __future__ import annotations

import multiprocessing as mp
import tempfile
import threading
import time
from typing import Any

import orjson
from kafka import KafkaConsumer, TopicPartition

from insight_stream.bench.kafka import bench_config, broker
from insight_stream.events import DlqRecord, decode
from insight_stream.runtime.feeder import fast_producer

KEPT_UP_S = 1.0  # "kept up": everything folded within this long after the last send


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list (``q`` in 0..100); 0.0 when empty.

    >>> percentile([1.0, 2.0, 3.0, 4.0], 50), percentile([1.0, 2.0, 3.0, 4.0], 99)
    (2.0, 4.0)
    """
    if not sorted_values:
        return 0.0
    rank = max(int(-(-q * len(sorted_values) // 100)), 1)  # ceil(q/100 * n), at least 1
    return sorted_values[min(rank, len(sorted_values)) - 1]


def summarize(values: list[float]) -> dict[str, float]:
    """p50/p90/p99/max/mean of ``values`` (milliseconds), rounded to 0.1 ms."""
    s = sorted(values)
    out = {f"p{q}": percentile(s, q) for q in (50, 90, 99)}
    out["max"] = s[-1] if s else 0.0
    out["mean"] = sum(s) / len(s) if s else 0.0
    return {k: round(v, 1) for k, v in out.items()}


def _pace(
    bootstrap: str,
    shop: tuple[int, int, int],
    limit: int,
    topics: dict[str, str],
    rate: float,
    go: Any,
    sent: Any,
    out: Any,
) -> None:
    """Child process: generate the shop's first ``limit`` events, wait for ``go``, then send
    them at ``rate`` events/s; sends back (send ms per (user, ts), seconds, last-send time).

    A separate process, so the engine's GIL does not slow the producer down (it shares
    the machine's cores all the same)."""
    from insight_stream.sim import Shop, SimConfig

    users, days, seed = shop
    events: list[tuple[str, bytes]] = []
    keys: list[tuple[str, int]] = []
    for kind, raw in Shop(SimConfig(users=users, days=days, seed=seed)).events():
        ev = decode(raw, kind)  # the engine's own parse: ts in epoch ms
        events.append((kind, raw))
        keys.append((ev.user_id, ev.ts) if not isinstance(ev, DlqRecord) else ("", 0))
        if len(events) >= limit:
            break
    producer = fast_producer(bootstrap, linger_ms=5)
    sent_ms: dict[tuple[str, int], int] = {}
    error = None
    try:
        go.wait()
        start = time.monotonic()
        send, wall = producer.send, time.time
        for n, ((kind, raw), key) in enumerate(zip(events, keys, strict=True), 1):
            ms = int(wall() * 1000)
            sent_ms.setdefault(key, ms)
            send(topics[kind], value=raw, key=key[0].encode(), timestamp_ms=ms)
            if n % 100 == 0:
                sent.value = n
            ahead = n / rate - (time.monotonic() - start)
            if ahead > 0.002:
                time.sleep(ahead)
        finished = time.monotonic()
        producer.flush()
        sent.value = len(events)
    except Exception as exc:  # reported by the parent
        error, finished, start = repr(exc), time.monotonic(), 0.0
    finally:
        producer.close()
    out.send((sent_ms, len(events), finished - start, finished, error))
    out.close()


class _ProfileWatch(threading.Thread):
    """Read the profile topic as it is written: (user, updated_at, CreateTime, seen ms)."""

    def __init__(self, bootstrap: str, topic: str, partitions: int) -> None:
        super().__init__(name="bench-profiles", daemon=True)
        self.consumer = KafkaConsumer(
            bootstrap_servers=bootstrap,
            group_id=None,
            enable_auto_commit=False,
            fetch_max_wait_ms=20,
            max_poll_records=10_000,
        )
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        self.consumer.assign(tps)
        self.consumer.seek_to_beginning(*tps)
        self.rows: list[tuple[str, int, int, int]] = []
        self.stop = threading.Event()

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                polled = self.consumer.poll(timeout_ms=50)
                seen = int(time.time() * 1000)
                for recs in polled.values():
                    for rec in recs:
                        doc = orjson.loads(rec.value)
                        self.rows.append((doc["user_id"], doc["updated_at"], rec.timestamp, seen))
        finally:
            self.consumer.close()


def run_latency_bench(
    users: int,
    days: int,
    seed: int,
    rate: float,
    seconds: float = 30.0,
    bootstrap: str | None = None,
) -> dict[str, Any]:
    """Produce ``rate`` events/s for up to ``seconds`` while ``run`` consumes; latency report."""
    from insight_stream.runtime.app import prepare_topics, run

    limit = max(int(rate * seconds), 1)
    prefix = f"lat{int(time.time() * 1000) % 10**9}"
    with broker(bootstrap) as bs, tempfile.TemporaryDirectory(prefix="insight-bench-") as state:
        cfg = bench_config(bs, state, prefix)
        parts = prepare_topics(cfg)
        ctx = mp.get_context("spawn")
        go, sent = ctx.Event(), ctx.Value("q", 0)
        recv, send = ctx.Pipe(duplex=False)
        topics = cfg.topic_by_kind
        pacer = ctx.Process(
            target=_pace,
            args=(bs, (users, days, seed), limit, topics, rate, go, sent, send),
            name="bench-pacer",
            daemon=True,
        )
        watch = _ProfileWatch(bs, cfg.profiles_topic, parts.get(cfg.profiles_topic, 1))
        inputs = set(cfg.input_topics)
        lag: dict[str, Any] = {"max": 0, "at_end": None, "folded_at": None}
        result: list[Any] = []
        wait_s = cfg.commit_interval_ms / 1000 + 1.0  # let a regular commit cycle publish

        def until(r: Any) -> bool:
            if not go.is_set():
                if {t for t, _ in r.source.assigned()} >= inputs:
                    go.set()
                return not pacer.is_alive()  # the producer failed before starting
            behind = sent.value - sum(r.tasks.positions().values())  # fresh topics: from 0
            lag["max"] = max(lag["max"], behind)
            if not result:
                if not recv.poll():
                    return False
                result.append(recv.recv())
                lag["at_end"] = behind
            if behind <= 0 and lag["folded_at"] is None:
                lag["folded_at"] = time.monotonic()
            return lag["folded_at"] is not None and time.monotonic() - lag["folded_at"] > wait_s

        pacer.start()
        watch.start()
        try:
            code = run(cfg, until=until)
        finally:
            go.set()
            if not result and recv.poll(120):
                result.append(recv.recv())
            pacer.join(timeout=30)
            time.sleep(0.5)  # the final profiles reach the watcher
            watch.stop.set()
            watch.join(timeout=30)
        if not result or result[0][4] is not None:
            raise RuntimeError(f"bench producer failed: {result[0][4] if result else 'no result'}")
        sent_ms, n_sent, produce_s, done_at, _ = result[0]
    first: dict[tuple[str, int], tuple[int, int]] = {}
    for uid, updated, ts, seen in watch.rows:
        first.setdefault((uid, updated), (ts, seen))
    lat: list[float] = []
    seen_lat: list[float] = []
    unmatched = 0
    for key, (ts, seen) in first.items():
        sent = sent_ms.get(key)
        if sent is None:
            unmatched += 1
            continue
        lat.append(float(ts - sent))
        seen_lat.append(float(seen - sent))
    catch_up = lag["folded_at"] - done_at if lag["folded_at"] and done_at else None
    report = {
        "mode": "latency",
        "events": n_sent,
        "users": users,
        "days": days,
        "exit_code": code,
        "target_rate": rate,
        "achieved_rate": round(n_sent / produce_s) if produce_s else 0,
        "produce_seconds": round(produce_s, 3),
        "profiles": len(watch.rows),
        "profiles_matched": len(lat),
        "profiles_unmatched": unmatched,
        "latency_ms": summarize(lat),
        "seen_latency_ms": summarize(seen_lat),
        "lag_at_end": lag["at_end"],
        "lag_max": lag["max"],
        "catch_up_s": round(catch_up, 3) if catch_up is not None else None,
        "kept_up": catch_up is not None and catch_up <= KEPT_UP_S,
        "runtime": {
            "commit_interval_ms": cfg.commit_interval_ms,
            "live_commit_interval_ms": cfg.live_commit_interval_ms,
            "flush_events": cfg.flush_events,
            "max_task_idle_ms": cfg.max_task_idle_ms,
            "linger_ms": cfg.linger_ms,
        },
        "broker": bootstrap or "embedded tansu",
    }
    return report


def print_latency(report: dict[str, Any]) -> None:
    lat, seen = report["latency_ms"], report["seen_latency_ms"]
    print(
        f"kafka latency: {report['events']:,} events at {report['achieved_rate']:,} events/s "
        f"(target {report['target_rate']:,.0f}), {report['users']:,} users ({report['broker']})"
    )
    print(
        f"  profiles        {report['profiles']:,} ({report['profiles_matched']:,} matched "
        f"to an input, {report['profiles_unmatched']:,} timer-moved skipped)"
    )
    print("  latency ms      p50      p90      p99      max")
    for name, v in (("to output ts", lat), ("to seen", seen)):
        cells = "  ".join(f"{v[q]:>7,.0f}" for q in ("p50", "p90", "p99", "max"))
        print(f"  {name:<13}{cells}")
    print(
        f"  lag             {report['lag_at_end']:,} records when the producer finished "
        f"(max {report['lag_max']:,}), folded {report['catch_up_s']} s after the last send"
        f" -> {'kept up' if report['kept_up'] else 'did NOT keep up'}"
    )
    rt = report["runtime"]
    print(
        f"  runtime         commit_interval_ms={rt['commit_interval_ms']} "
        f"live_commit_interval_ms={rt['live_commit_interval_ms']} "
        f"max_task_idle_ms={rt['max_task_idle_ms']} linger_ms={rt['linger_ms']}"
    )
