"""The dashboard against real data: Debian's Prometheus scrapes a running `insight-stream run`
fed by `insight-stream produce` through the test broker, and every dashboard expression
must return data. The app's /metrics must also pass `promtool check metrics`, its health
endpoints must answer, and the alert rules must load and evaluate cleanly.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from deploy_support import (
    APP_SERVICE,
    DEPLOY,
    PROM_RULES,
    REPO,
    dashboard_queries,
    load_dashboard,
    substitute,
    system_binary,
    variable_queries,
)

from insight_stream.runtime.broker import free_port

pytestmark = [pytest.mark.prometheus, pytest.mark.integration]

CLI = [sys.executable, "-m", "insight_stream.cli.main"]
FIRST_DATA_TIMEOUT_S = 90.0  # first scrape after ~6 s; segments/quality need some events
RATE_INTERVAL = "30s"


@dataclass
class Live:
    """A running app + Prometheus; URLs on loopback."""

    metrics_port: int
    prom_url: str
    app: subprocess.Popen[bytes]
    logs: Path

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.metrics_port}"

    def query(self, expr: str) -> dict[str, Any]:
        url = f"{self.prom_url}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
        with urllib.request.urlopen(url, timeout=10) as resp:
            body = json.load(resp)
        assert body["status"] == "success", body
        return body["data"]

    def log_tail(self, n: int = 40) -> str:
        parts = []
        for path in sorted(self.logs.glob("*.log")):
            lines = path.read_text(errors="replace").splitlines()[-n:]
            parts.append(f"--- {path.name}\n" + "\n".join(lines))
        return "\n".join(parts)


def _http_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0


def _wait(predicate: Any, timeout: float, what: str, live: Live | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if live and live.app.poll() is not None:
            pytest.fail(
                f"insight-stream run exited ({live.app.returncode}) while waiting for {what}\n"
                + live.log_tail(),
                pytrace=False,
            )
        time.sleep(0.5)
    tail = live.log_tail() if live else ""
    pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}\n{tail}", pytrace=False)


def _spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    out = log.open("wb")
    return subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=log.parent)


def _stop(proc: subprocess.Popen[bytes], timeout: float = 20) -> int | None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
    return proc.returncode


@pytest.fixture(scope="module")
def live(tansu_broker: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    prometheus = system_binary("prometheus")
    tmp = tmp_path_factory.mktemp("live-prometheus")
    run = uuid.uuid4().hex[:8]
    metrics_port, prom_port = free_port(), free_port()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        "INSIGHT_BOOTSTRAP_SERVERS": tansu_broker,
        "INSIGHT_GROUP_ID": f"live-{run}",
        "INSIGHT_CLICKSTREAM_TOPIC": f"live-{run}.clickstream",
        "INSIGHT_ORDERS_TOPIC": f"live-{run}.orders",
        "INSIGHT_PROFILES_TOPIC": f"live-{run}.profiles",
        "INSIGHT_ALERTS_TOPIC": f"live-{run}.churn-alerts",
        "INSIGHT_DLQ_TOPIC": f"live-{run}.dlq",
        "INSIGHT_PARTITIONS": "4",  # what the test broker auto-creates
        "INSIGHT_STATE_DIR": str(tmp / "state"),
        "INSIGHT_METRICS_HOST": "127.0.0.1",
        "INSIGHT_METRICS_PORT": str(metrics_port),
        "INSIGHT_COMMIT_INTERVAL_MS": "500",
        "INSIGHT_SESSION_TIMEOUT_MS": "3000",
        "INSIGHT_HEARTBEAT_INTERVAL_MS": "500",
    }
    app = _spawn([*CLI, "run"], env, tmp / "run.log")
    stack = Live(metrics_port, f"http://127.0.0.1:{prom_port}", app, tmp)
    procs = [app]
    try:
        _wait(lambda: _http_status(f"{stack.metrics_url}/metrics") == 200, 60, "/metrics", stack)
        # ~36k events over ~18 s: several scrapes see the counters move, and enough users
        # reach 5 sessions (>200) for the segments to be seeded.
        produce = [*CLI, "produce", "--users", "1000", "--days", "35", "--malformed-rate", "0.02"]
        produce += ["--rate", "2000"]
        procs.append(_spawn(produce, env, tmp / "produce.log"))
        config = tmp / "prometheus.yml"
        config.write_text(
            json.dumps(  # JSON is YAML
                {
                    "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                    "rule_files": [str(p) for p in PROM_RULES],
                    "scrape_configs": [
                        {
                            "job_name": APP_SERVICE,
                            "static_configs": [{"targets": [f"127.0.0.1:{metrics_port}"]}],
                        }
                    ],
                }
            )
        )
        prom_args = [
            str(prometheus),
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{prom_port}",
            "--log.level=warn",
        ]
        procs.append(_spawn(prom_args, env, tmp / "prometheus.log"))
        _wait(lambda: _http_status(f"{stack.prom_url}/-/ready") == 200, 30, "Prometheus", stack)
        yield stack
    finally:
        for proc in reversed(procs):
            _stop(proc)


def test_every_dashboard_expression_returns_data(live: Live) -> None:
    dashboard = load_dashboard()
    pending = {
        where: substitute(expr, RATE_INTERVAL) for where, expr in dashboard_queries(dashboard)
    }
    pending |= {
        f"variable {name}": substitute(sel, RATE_INTERVAL)
        for name, sel in variable_queries(dashboard)
    }
    last: dict[str, Any] = {}
    started = time.monotonic()
    deadline = started + FIRST_DATA_TIMEOUT_S
    while pending and time.monotonic() < deadline:
        for where, expr in list(pending.items()):
            last[where] = live.query(expr)
            if last[where]["result"]:
                del pending[where]
        if pending:
            time.sleep(1)
    elapsed = time.monotonic() - started
    missing = "\n".join(f"  {where}: {pending[where]}  -> {last.get(where)}" for where in pending)
    assert not pending, f"no data after {elapsed:.0f}s:\n{missing}\n{live.log_tail()}"
    print(f"all {len(last)} dashboard expressions returned data after {elapsed:.1f}s")


def test_dashboard_shows_traffic_and_dead_letters(live: Live) -> None:
    """Not just zeros: events flow in and out, and the malformed input reaches the DLQ."""
    checks = {
        "consumed": "sum(increase(insight_stream_events_consumed_total[5m])) > 0",
        "produced": "sum(increase(insight_stream_records_produced_total[5m])) > 0",
        "dlq": "sum(insight_stream_dlq_records_total) > 0",
        "profiles": "sum(insight_stream_profiles_published_total) > 0",
        "commits": "sum(insight_stream_commits_total) > 0",
        "partitions": "sum(insight_stream_assigned_partitions) > 0",
    }
    last: dict[str, Any] = {}

    def all_true() -> bool:
        for name, expr in checks.items():
            last[name] = live.query(expr)["result"]
        return all(last.values())

    deadline = time.monotonic() + FIRST_DATA_TIMEOUT_S
    while not all_true() and time.monotonic() < deadline:
        time.sleep(1)
    missing = sorted(name for name, result in last.items() if not result)
    assert not missing, f"still zero: {missing}\n{live.log_tail()}"


def test_metrics_pass_promtool(live: Live) -> None:
    with urllib.request.urlopen(f"{live.metrics_url}/metrics", timeout=5) as resp:
        body = resp.read()
    proc = subprocess.run(
        [str(system_binary("promtool")), "check", "metrics"],
        input=body,
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert proc.returncode == 0, (proc.stdout + proc.stderr).decode()
    assert b"insight_stream_build_info" in body


def test_health_endpoints_and_container_probe(live: Live) -> None:
    _wait(lambda: _http_status(f"{live.metrics_url}/readyz") == 200, 60, "/readyz 200", live)
    assert _http_status(f"{live.metrics_url}/healthz") == 200
    probe = [sys.executable, str(DEPLOY / "healthcheck.py"), "/healthz"]
    env = {**os.environ, "INSIGHT_METRICS_PORT": str(live.metrics_port)}
    assert subprocess.run(probe, env=env, timeout=10, check=False).returncode == 0


def _rules(live: Live) -> list[dict[str, Any]]:
    with urllib.request.urlopen(f"{live.prom_url}/api/v1/rules", timeout=5) as resp:
        return [r for g in json.load(resp)["data"]["groups"] for r in g["rules"]]


def test_alert_rules_load_and_evaluate(live: Live) -> None:
    _wait(lambda: live.query(f'up{{job="{APP_SERVICE}"}} == 1')["result"], 30, "up == 1", live)
    scraped = time.time()

    def evaluated_since_scrape() -> bool:
        rules = _rules(live)
        return bool(rules) and all(_epoch(r.get("lastEvaluation")) > scraped for r in rules)

    _wait(evaluated_since_scrape, 30, "rule evaluation", live)
    rules = _rules(live)
    assert len(rules) == sum(f.read_text().count("- alert:") for f in PROM_RULES)
    bad = [(r["name"], r.get("lastError")) for r in rules if r["health"] != "ok"]
    assert not bad, bad
    # A healthy, scraped instance: the down/absent/stalled alerts are not even pending.
    active = {r["name"] for r in rules if r["state"] != "inactive"}
    assert not active & {"InsightStreamDown", "InsightStreamAbsent", "InsightStreamStalled"}


def _epoch(rfc3339: str | None) -> float:
    """Prometheus' RFC 3339 timestamps (nanoseconds, Z) as epoch seconds; 0 when unset."""
    if not rfc3339 or rfc3339.startswith("0001"):
        return 0.0
    from datetime import datetime

    head, _, frac = rfc3339.rstrip("Z").partition(".")
    stamp = datetime.fromisoformat(head + "+00:00").timestamp()
    return stamp + float(f"0.{frac[:6] or 0}")
