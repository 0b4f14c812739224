"""Support for end-to-end tests: feed a simulated shop, run ``insight-stream run`` as a child
process, scrape its metrics, wait for it to catch up, stop or kill it."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from insight_stream.runtime.feeder import FeedResult, fast_producer, feed
from insight_stream.sim import Shop, SimConfig

REPO = Path(__file__).resolve().parents[2]
LIVENESS_S = 90.0  # generous: the machine is shared


class Proc:
    """A running ``insight-stream run`` child with its metrics port."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.port = int(env["INSIGHT_METRICS_PORT"])
        self.log_path = log_path
        self._log = open(log_path, "ab")  # noqa: SIM115 - closed in wait()
        full = {**os.environ, "PYTHONPATH": str(REPO), **env}
        self.p = subprocess.Popen(
            [sys.executable, "-m", "insight_stream.cli.main", "run"],
            env=full,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=5) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()
        except OSError:
            return 0, ""

    def metric(self, name: str, **labels: str) -> float:
        """Sum of the samples of ``name`` matching ``labels`` (0 when not scraped yet)."""
        _, text = self.get("/metrics")
        return sum_metric(text, name, **labels)

    def wait_for(self, cond: Callable[[], bool], what: str, timeout: float = LIVENESS_S) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.p.poll() is not None:
                raise AssertionError(
                    f"processor exited ({self.p.returncode}) waiting for {what}:\n{self.log()}"
                )
            if cond():
                return
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}:\n{self.log()[-3000:]}")

    def wait_consumed(self, n: int, timeout: float = LIVENESS_S) -> None:
        self.wait_for(
            lambda: self.metric("insight_stream_events_consumed_total") >= n,
            f"{n} records consumed",
            timeout,
        )

    def terminate(self, timeout: float = 30.0) -> int:
        self.p.send_signal(signal.SIGTERM)
        return self.wait(timeout)

    def kill9(self) -> None:
        os.killpg(self.p.pid, signal.SIGKILL)
        self.wait(10)

    def wait(self, timeout: float) -> int:
        try:
            return self.p.wait(timeout)
        finally:
            self._log.close()

    def log(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")


def sum_metric(text: str, name: str, **labels: str) -> float:
    total = 0.0
    for line in text.splitlines():
        m = re.match(rf"^{re.escape(name)}(\{{[^}}]*\}})? (\S+)$", line)
        if m and all(f'{k}="{v}"' in (m.group(1) or "") for k, v in labels.items()):
            total += float(m.group(2))
    return total


def runtime_env(bootstrap: str, prefix: str, state_dir: Path, **extra: str) -> dict[str, str]:
    """Env for one deployment whose topics and group are all prefixed (test isolation)."""
    return {
        "INSIGHT_BOOTSTRAP_SERVERS": bootstrap,
        "INSIGHT_GROUP_ID": f"{prefix}.group",
        "INSIGHT_CLICKSTREAM_TOPIC": f"{prefix}.clickstream",
        "INSIGHT_ORDERS_TOPIC": f"{prefix}.orders",
        "INSIGHT_PROFILES_TOPIC": f"{prefix}.profiles",
        "INSIGHT_ALERTS_TOPIC": f"{prefix}.alerts",
        "INSIGHT_DLQ_TOPIC": f"{prefix}.dlq",
        "INSIGHT_STATE_DIR": str(state_dir),
        **extra,
    }


def shop_kwargs(s: SimConfig) -> dict[str, Any]:
    """:func:`feed_shop` arguments for the shop ``s`` describes."""
    return {"users": s.users, "days": s.days, "seed": s.seed, "malformed_rate": s.malformed_rate}


def feed_shop(
    bootstrap: str,
    prefix: str,
    users: int,
    days: int = 30,
    seed: int = 3,
    malformed_rate: float = 0.0,
    events: Any = None,
) -> tuple[FeedResult, Shop]:
    """Produce a simulated shop to ``<prefix>.clickstream`` / ``<prefix>.orders``."""
    shop = Shop(SimConfig(users=users, days=days, seed=seed, malformed_rate=malformed_rate))
    producer = fast_producer(bootstrap)
    try:
        result = feed(
            producer,
            events if events is not None else shop.events(),
            {"clickstream": f"{prefix}.clickstream", "orders": f"{prefix}.orders"},
        )
    finally:
        producer.close()
    return result, shop


def settled(proc: Proc, partitions: int = 8) -> bool:
    """Every partition assigned, caught up and its open window re-published."""
    _, text = proc.get("/metrics")
    return (
        sum_metric(text, "insight_stream_assigned_partitions") == partitions
        and sum_metric(text, "insight_stream_settled") == 1
        and sum_metric(text, "insight_stream_consumer_lag_records") == 0
    )


def spread(procs: list[Proc]) -> None:
    """Wait until every instance holds partitions, 8 in all."""
    procs[0].wait_for(
        lambda: (
            sum(p.metric("insight_stream_assigned_partitions") for p in procs) == 8
            and all(p.metric("insight_stream_assigned_partitions") > 0 for p in procs)
        ),
        f"8 partitions spread over {len(procs)} instances",
        timeout=120,
    )


def kill_one_of(procs: list[Proc]) -> list[Proc]:
    """Once the partitions are spread and the last instance published something,
    ``kill -9`` it mid-run; returns the survivors."""
    spread(procs)
    victim = procs[-1]
    victim.wait_for(
        lambda: victim.metric("insight_stream_profiles_published_total") >= 100,
        "the victim published something",
        timeout=240,
    )
    victim.kill9()
    return procs[:-1]
