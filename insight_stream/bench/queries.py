"""Query latency under load: ``python -m insight_stream.bench.queries``.

Starts an embedded broker, produces a simulated shop as a backlog, and runs
``insight-stream run`` on it twice as a child process: once alone, once while a client
sends back-to-back ``GET /users/{id}`` (and every 20th a ``GET /segments``) for the whole
time the backlog is being folded, i.e. while the loop is busiest. Reports query latency
percentiles (a fresh connection per request, loopback) and the backlog's wall time in both
runs, so the cost of the queries to processing is measured, not assumed. Numbers depend on
the machine; README "Trust" records the ones from ours.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import orjson

from insight_stream.runtime.broker import EmbeddedBroker, free_port
from insight_stream.runtime.feeder import fast_producer, feed
from insight_stream.sim import Shop, SimConfig

REPO = Path(__file__).resolve().parents[2]


def _metric(port: int, name: str) -> float:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
            text = r.read().decode()
    except OSError:
        return -1.0
    return sum(float(m) for m in re.findall(rf"^{name}(?:\{{[^}}]*\}})? (\S+)$", text, re.M))


def _get(url: str) -> tuple[int, float, float]:
    """(status, lock wait ms, lock held ms) from the server's ``Server-Timing``."""
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            r.read()
            code, timing = r.status, r.headers.get("Server-Timing", "")
    except urllib.error.HTTPError as e:
        code, timing = e.code, e.headers.get("Server-Timing", "")
    durs = [float(d) for d in re.findall(r"dur=([0-9.]+)", timing)] or [0.0, 0.0]
    return code, durs[0], durs[1]


def _percentiles(values: list[float], scale: float = 1.0) -> dict[str, float]:
    v = sorted(values)
    at = lambda f: round(v[min(len(v) - 1, int(f * len(v)))] * scale, 2)  # noqa: E731
    return {"p50": at(0.5), "p90": at(0.9), "p99": at(0.99), "max": round(v[-1] * scale, 2)}


def _query(base: str, rnd: random.Random, users: list[str], n: int, out: dict[str, Any]) -> None:
    path = "/segments" if n % 20 == 19 else f"/users/{rnd.choice(users)}"
    q0 = time.perf_counter()
    code, wait, held = _get(base + path)
    out["latency"].append(time.perf_counter() - q0)
    out["lock_wait"].append(wait)
    out["lock_held"].append(held)
    out["codes"][str(code)] = out["codes"].get(str(code), 0) + 1


def _summary(samples: dict[str, Any], seconds: float) -> dict[str, Any]:
    return {
        "queries": len(samples["latency"]),
        "queries_per_s": round(len(samples["latency"]) / seconds),
        "latency_ms": _percentiles(samples["latency"], 1000.0),
        "lock_wait_ms": _percentiles(samples["lock_wait"]),
        "lock_held_ms": _percentiles(samples["lock_held"]),
        "status_codes": samples["codes"],
    }


def _one_run(
    bootstrap: str, prefix: str, total: int, users: list[str], query: bool, tmp: Path
) -> dict[str, Any]:
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "INSIGHT_BOOTSTRAP_SERVERS": bootstrap,
        "INSIGHT_GROUP_ID": f"{prefix}-{'q' if query else 'base'}",
        "INSIGHT_CLICKSTREAM_TOPIC": f"{prefix}.clickstream",
        "INSIGHT_ORDERS_TOPIC": f"{prefix}.orders",
        "INSIGHT_PROFILES_TOPIC": f"{prefix}.{'q' if query else 'b'}.profiles",
        "INSIGHT_ALERTS_TOPIC": f"{prefix}.{'q' if query else 'b'}.alerts",
        "INSIGHT_DLQ_TOPIC": f"{prefix}.{'q' if query else 'b'}.dlq",
        "INSIGHT_STATE_DIR": str(tmp / ("q" if query else "base")),
        "INSIGHT_METRICS_PORT": str(port),
        "INSIGHT_METRICS_HOST": "127.0.0.1",
        "INSIGHT_SESSION_TIMEOUT_MS": "3000",
        "INSIGHT_HEARTBEAT_INTERVAL_MS": "500",
        "INSIGHT_LOG_LEVEL": "WARNING",
    }
    log = open(tmp / f"run-{query}.log", "wb")  # noqa: SIM115 - closed below
    child = subprocess.Popen(
        [sys.executable, "-m", "insight_stream.cli.main", "run"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    consumed = "insight_stream_events_consumed_total"
    busy: dict[str, Any] = {"latency": [], "lock_wait": [], "lock_held": [], "codes": {}}
    idle: dict[str, Any] = {"latency": [], "lock_wait": [], "lock_held": [], "codes": {}}
    rnd = random.Random(1)
    base = f"http://127.0.0.1:{port}"
    try:
        while _metric(port, consumed) <= 0:  # first batch fetched: the clock starts
            if child.poll() is not None:
                raise RuntimeError(f"run exited {child.returncode}; see {log.name}")
            time.sleep(0.005)
        t0 = time.perf_counter()
        n = 0
        while True:
            if query:
                _query(base, rnd, users, n, busy)
                n += 1
                if n % 50:
                    continue
            else:
                time.sleep(0.02)
            if _metric(port, consumed) >= total:
                break
        backlog_s = time.perf_counter() - t0
        if query:  # the same queries once the backlog is folded (the loop mostly polls)
            t1 = time.perf_counter()
            for i in range(500):
                _query(base, rnd, users, i, idle)
            idle_s = time.perf_counter() - t1
    finally:
        child.send_signal(signal.SIGTERM)
        child.wait(60)
        log.close()
    out: dict[str, Any] = {
        "backlog_s": round(backlog_s, 2),
        "events_per_s": round(total / backlog_s),
    }
    if query:
        out["during_backlog"] = _summary(busy, backlog_s)
        out["after_backlog"] = _summary(idle, idle_s)
    return out


def run_query_bench(users: int, days: int, seed: int) -> dict[str, Any]:
    shop = Shop(SimConfig(users=users, days=days, seed=seed))
    events = list(shop.events())
    ids = sorted({orjson.loads(raw)["user_id"] for _, raw in events})
    prefix = f"qb{os.getpid()}"
    with EmbeddedBroker() as broker, tempfile.TemporaryDirectory() as tmp:
        producer = fast_producer(broker.bootstrap)
        try:
            feed(
                producer,
                events,
                {"clickstream": f"{prefix}.clickstream", "orders": f"{prefix}.orders"},
            )
        finally:
            producer.close()
        base = _one_run(broker.bootstrap, prefix, len(events), ids, False, Path(tmp))
        loaded = _one_run(broker.bootstrap, prefix, len(events), ids, True, Path(tmp))
    return {
        "events": len(events),
        "users": len(ids),
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
        "alone": base,
        "with_queries": loaded,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--users", type=int, default=3000)
    p.add_argument("--days", type=int, default=30)
    p.add_argument("--seed", type=int, default=7)
    args = p.parse_args(argv)
    report = run_query_bench(args.users, args.days, args.seed)
    print(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
