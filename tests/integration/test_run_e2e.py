"""End to end on the Tansu broker: one ``insight-stream run`` child over a simulated shop.

One run (module fixture) is observed from several angles: counts per output topic, DLQ
content and headers, every metric of docs/metrics.md, health endpoints, and SIGTERM giving
exit 0 with the group offsets committed at the end of the input.
"""

from __future__ import annotations

import base64
import os
import re
import signal
import time
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest
from jsonschema import Draft202012Validator
from kafka import KafkaConsumer, TopicPartition

from insight_stream.events import DlqRecord, decode
from insight_stream.runtime.broker import free_port
from insight_stream.runtime.reader import latest_by_key, read_topic
from insight_stream.sim import SimConfig

from .parity import differences, read_published, replay_shop
from .support import Proc, feed_shop, runtime_env, sum_metric

pytestmark = pytest.mark.integration

DOC = Path(__file__).resolve().parents[2] / "docs" / "metrics.md"
SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
E2E_SHOP = {"users": 600, "days": 90, "seed": 3, "malformed_rate": 0.03}


def _status(proc: Proc, path: str) -> int:
    try:
        return proc.get(path)[0]
    except OSError:
        return 0


@pytest.fixture(scope="module")
def finished(tansu_broker: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("e2e")
    prefix = f"e2e{os.getpid()}"
    env = runtime_env(
        tansu_broker,
        prefix,
        tmp / "state",
        INSIGHT_METRICS_PORT=str(free_port()),
        INSIGHT_METRICS_HOST="127.0.0.1",
        INSIGHT_SESSION_TIMEOUT_MS="3000",
        INSIGHT_HEARTBEAT_INTERVAL_MS="500",
        INSIGHT_COMMIT_INTERVAL_MS="200",
        # Live folding equals replay's while no partition delivers a record more than this
        # after another partition's later one (runtime/tasks.py). The default 500 ms held on
        # a quiet machine; with the other core busy the producer's batches for one
        # partition lagged longer once (alerts and risks then differed from replay).
        INSIGHT_MAX_TASK_IDLE_MS="5000",
    )
    proc = Proc(env, tmp / "processor.log")
    try:
        # Live, as in production: the engine is running while the shop is produced, so
        # clicks and orders arrive interleaved in event time (online quality needs a
        # session's clicks before its order).
        proc.wait_for(lambda: _status(proc, "/readyz") == 200, "partitions assigned")
        fed, shop = feed_shop(tansu_broker, prefix, **E2E_SHOP)
        proc.wait_consumed(fed.total)
        time.sleep(1.0)  # > commit interval: the settled gauge now describes the last records
        proc.wait_for(
            lambda: (
                proc.metric("insight_stream_commits_total") >= 2
                and proc.metric("insight_stream_consumer_lag_records") == 0
                and proc.metric("insight_stream_settled") == 1
            ),
            "caught up and settled",
            timeout=240,
        )
        health, ready = proc.get("/healthz"), proc.get("/readyz")
        _, metrics = proc.get("/metrics")
        code = proc.terminate(timeout=10)
    finally:
        if proc.p.poll() is None:
            os.killpg(proc.p.pid, signal.SIGKILL)
    topics = {k: f"{prefix}.{k}" for k in ("profiles", "alerts", "dlq")}
    return {
        "fed": fed,
        "shop": shop,
        "env": env,
        "health": health,
        "ready": ready,
        "metrics": metrics,
        "code": code,
        "log": proc.log(),
        "out": {k: read_topic(tansu_broker, t) for k, t in topics.items()},
        "published": read_published(tansu_broker, prefix),
        "replay": replay_shop(SimConfig(**E2E_SHOP), tmp / "replay"),
        "bootstrap": tansu_broker,
        "prefix": prefix,
    }


def valid_events(shop: Any) -> list[Any]:
    return [ev for _, raw in shop.events() if not isinstance(ev := decode(raw), DlqRecord)]


def test_outputs_per_topic(finished: dict[str, Any]) -> None:
    events = valid_events(finished["shop"])
    users = {ev.user_id for ev in events}
    profiles = latest_by_key(finished["out"]["profiles"])
    assert set(profiles) == users
    for uid, prof in profiles.items():
        assert prof is not None and prof["user_id"] == uid
    orders = Counter(ev.user_id for ev in events if ev.type == "order_placed")
    assert {u: p["orders"] for u, p in profiles.items() if p["orders"]} == dict(orders)
    assert len(finished["out"]["alerts"]) > 20  # the shop does raise alerts
    for rec in finished["out"]["alerts"]:
        alert = orjson.loads(rec.value)
        assert rec.key.decode() == alert["user_id"] and alert["alert_id"]


def test_live_run_publishes_what_replay_publishes(finished: dict[str, Any]) -> None:
    """Produced while the engine runs: the same alerts (ids and contents) and the same last
    profile per user as ``insight-stream replay`` of the same shop."""
    got, want = finished["published"], finished["replay"]
    assert len(want.alerts) > 20
    behind = sum_metric(finished["metrics"], "insight_stream_task_folded_behind_total")
    assert not differences(got, want), f"{behind:.0f} records were folded behind (docs/metrics.md)"


@pytest.mark.parametrize(
    ("topic", "schema"), [("profiles", "profile.v1.json"), ("alerts", "churn-alert.v1.json")]
)
def test_published_records_validate_against_the_committed_schemas(
    finished: dict[str, Any], topic: str, schema: str
) -> None:
    """What consumers receive is what schemas/ promises, checked by an independent validator."""
    validator = Draft202012Validator(orjson.loads((SCHEMAS / schema).read_bytes()))
    records = [r for r in finished["out"][topic] if r.value is not None]  # tombstones: erasure
    assert len(records) > 20
    invalid = {
        r.key: [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors][:3]
        for r in records
        if (errors := list(validator.iter_errors(orjson.loads(r.value))))
    }
    assert not invalid, f"{len(invalid)} of {len(records)} {topic} invalid, e.g. {invalid}"


def test_dlq_records_carry_raw_bytes_and_headers(finished: dict[str, Any]) -> None:
    shop, dlq = finished["shop"], finished["out"]["dlq"]
    assert shop.truth.malformed > 0
    assert len(dlq) == shop.truth.malformed
    raws = Counter(raw for _, raw in shop.events() if isinstance(decode(raw), DlqRecord))
    assert Counter(rec.value for rec in dlq) == raws
    for rec in dlq:
        h = {k: v.decode() for k, v in rec.headers}
        assert h["source_topic"] in (
            f"{finished['prefix']}.clickstream",
            f"{finished['prefix']}.orders",
        )
        assert int(h["source_offset"]) >= 0 and int(h["source_partition"]) in range(4)
        assert h["error_type"] in ("decode", "validation") and h["error_message"]
        again = decode(rec.value, h["source_topic"])
        assert isinstance(again, DlqRecord) and again.error_type == h["error_type"]
        assert base64.b64decode(again.raw) == rec.value


def test_every_documented_metric_is_exposed_with_sane_values(finished: dict[str, Any]) -> None:
    text, fed, shop = finished["metrics"], finished["fed"], finished["shop"]
    documented = re.findall(r"^\| `(insight_stream_[a-z_]+)` \|", DOC.read_text(), re.M)
    assert len(documented) >= 20
    exposed = {
        line.split("{")[0].split(" ")[0] for line in text.splitlines() if not line.startswith("#")
    }
    exposed |= {n.removesuffix(s) for n in exposed for s in ("_bucket", "_count", "_sum")}
    missing = [m for m in documented if m not in exposed]
    assert not missing, missing
    assert sum_metric(text, "insight_stream_events_consumed_total") == fed.total
    assert sum_metric(text, "insight_stream_dlq_records_total") == shop.truth.malformed
    profiles = len(finished["out"]["profiles"])
    assert sum_metric(text, "insight_stream_profiles_published_total") == profiles
    assert (
        sum_metric(
            text, "insight_stream_records_produced_total", topic=f"{finished['prefix']}.profiles"
        )
        == profiles
    )
    assert sum_metric(text, "insight_stream_assigned_partitions") == 8
    assert sum_metric(text, "insight_stream_active_users") == len(
        latest_by_key(finished["out"]["profiles"])
    )
    assert sum_metric(text, "insight_stream_churn_risk_ratio_gcount") == sum_metric(
        text, "insight_stream_active_users"
    )
    assert sum_metric(text, "insight_stream_batch_size_records_count") >= 1
    assert sum_metric(text, "insight_stream_rebalances_total", kind="assigned") >= 1
    assert sum_metric(text, "insight_stream_build_info") == 1
    assert (
        0
        < sum_metric(text, "insight_stream_segment_users")
        <= sum_metric(text, "insight_stream_active_users")
    )
    assert 'insight_stream_model_refits_total{model="segments"}' in text
    # refits run on event-time schedules (may be 0 on a 30-day shop): exposed per model from 0
    assert 'insight_stream_model_refits_total{model="churn"}' in text
    assert sum_metric(text, "insight_stream_last_event_timestamp_seconds") > 1.6e9


def test_health_and_readiness_while_running(finished: dict[str, Any]) -> None:
    assert finished["health"][0] == 200
    assert finished["ready"] == (200, "ready: 8 partitions assigned\n")


def test_sigterm_exits_0_with_offsets_committed(finished: dict[str, Any]) -> None:
    assert finished["code"] == 0, finished["log"][-2000:]
    consumer = KafkaConsumer(
        bootstrap_servers=finished["bootstrap"],
        group_id=finished["env"]["INSIGHT_GROUP_ID"],
        enable_auto_commit=False,
    )
    try:
        committed = {k: consumer.committed(TopicPartition(*k)) for k in finished["fed"].end_offsets}
    finally:
        consumer.close()
    assert committed == finished["fed"].end_offsets
