"""The /metrics body: process collectors, no ``_created``, every DLQ reason from zero, the
churn-risk gauge histogram, event-time gauges, and exactly the families docs/metrics.md lists.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import orjson
from prometheus_client.parser import text_string_to_metric_families

from insight_stream.events import decode
from insight_stream.events.outputs import DLQ_REASONS
from insight_stream.processor import Processor
from insight_stream.runtime.metrics import Metrics

DOC = Path(__file__).resolve().parents[2] / "docs" / "metrics.md"
T0 = 1_704_067_200_000
DAY = 86_400_000


def families(text: str) -> dict[str, Any]:
    return {f.name: f for f in text_string_to_metric_families(text)}


def sample(text: str, name: str, **labels: str) -> float:
    (value,) = [
        s.value
        for f in text_string_to_metric_families(text)
        for s in f.samples
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
    ]
    return value


def engine_with_users() -> Processor:
    """A real engine after two users ordered: both hold an inactivity timer."""
    proc = Processor()
    for n, uid in enumerate(("u1", "u2")):
        raw = {
            "event_id": f"o{n}",
            "order_id": f"o{n}",
            "user_id": uid,
            "type": "order_placed",
            "ts": T0 + n * DAY,
            "total": 50.0,
            "lines": [{"item_id": "i1", "category": "books", "price": 50.0, "quantity": 1}],
        }
        proc.process(decode(orjson.dumps(raw), "shop.orders"))
    proc.drain()
    return proc


def test_process_and_platform_collectors_are_on_the_private_registry() -> None:
    names = set(families(Metrics().render().decode()))
    expected = {
        "process_resident_memory_bytes",
        "process_cpu_seconds",
        "process_open_fds",
        "python_gc_collections",
        "python_info",
    }
    assert expected <= names, expected - names


def test_no_created_series() -> None:
    m = Metrics()
    m.commits.inc()
    text = m.render().decode()
    assert "insight_stream_commits_total 1.0" in text
    assert "_created" not in text


def test_every_dlq_reason_is_exposed_from_zero() -> None:
    assert DLQ_REASONS == (
        "decode",
        "validation",
        "too_large",
        "too_old",
        "future_timestamp",
        "late",
        "processing",
    )
    text = Metrics().render().decode()
    for reason in DLQ_REASONS:
        assert sample(text, "insight_stream_dlq_records_total", reason=reason) == 0


def test_churn_risk_is_a_cumulative_gauge_histogram() -> None:
    m = Metrics()
    m.observe_stats({"churn_risk_histogram": [3, 0, 2, 0, 0, 0, 0, 0, 1, 4]})
    text = m.render().decode()
    buckets = [
        (s.labels["le"], s.value)
        for s in families(text)["insight_stream_churn_risk_ratio"].samples
        if s.name.endswith("_bucket")
    ]
    assert buckets == [
        ("0.1", 3),
        ("0.2", 3),
        ("0.3", 5),
        ("0.4", 5),
        ("0.5", 5),
        ("0.6", 5),
        ("0.7", 5),
        ("0.8", 5),
        ("0.9", 6),
        ("+Inf", 10),
    ]
    assert sample(text, "insight_stream_churn_risk_ratio_gcount") == 10
    # buckets go down as well as up: a gauge histogram, not a counter
    m.observe_stats({"churn_risk_histogram": [1] + [0] * 9})
    assert sample(m.render().decode(), "insight_stream_churn_risk_ratio_bucket", le="+Inf") == 1


def test_event_time_and_timer_gauges_from_a_real_engine() -> None:
    proc = engine_with_users()
    stats = proc.stats()
    assert stats.timers == len(proc.timers) >= 2
    m = Metrics()
    m.observe_stats(stats)
    never_fed = (0, 0, 0.0, 0)
    m.observe_tasks({0: (T0 + DAY, 0, 0.0, 0), 1: (T0, 5, 0.0, 2), 2: never_fed})
    m.observe_tasks({1: (T0, 5, 0.0, 1)})  # counts since the last call add up
    text = m.render().decode()
    assert sample(text, "insight_stream_timer_queue_entries") == stats.timers
    assert sample(text, "insight_stream_stream_timestamp_seconds") == (T0 + DAY) / 1000
    assert sample(text, "insight_stream_watermark_timestamp_seconds") == T0 / 1000
    assert sample(text, "insight_stream_task_folded_behind_total", task="1") == 3


def test_exposed_families_are_exactly_the_documented_ones() -> None:
    """Both directions, so docs/metrics.md is the contract (labelled families included)."""
    m = Metrics()
    m.observe_stats(engine_with_users().stats())
    m.observe_tasks({0: (T0, 0, 0.0, 0)})
    m.set_lag({("shop.orders", 0): 3})
    text = m.render().decode()
    exposed = set(re.findall(r"^# TYPE (\S+) \S+$", text, re.M))
    rows = re.findall(r"^\|\s*`([a-z_][a-z0-9_]*)`\s*\|\s*(\w+)\s*\|", DOC.read_text(), re.M)
    documented = {name for name, _ in rows}
    documented |= {f"{name}_gcount" for name, kind in rows if kind == "gaugehistogram"}
    assert exposed - documented == set(), "exposed but not in docs/metrics.md"
    assert documented - exposed == set(), "documented but not exposed"


def test_render_passes_promtool() -> None:
    m = Metrics()
    m.observe_stats(engine_with_users().stats())
    proc = subprocess.run(
        ["promtool", "check", "metrics"], input=m.render(), capture_output=True, check=False
    )
    assert proc.returncode == 0, (proc.stdout + proc.stderr).decode()


def test_model_versions_keep_one_series_per_model_with_the_current_hash() -> None:
    m = Metrics()
    m.observe_stats({"model_versions": {"recs": "aa", "churn": "cc"}, "model_versions_at": T0})
    m.observe_stats(
        {"model_versions": {"recs": "bb", "churn": "cc"}, "model_versions_at": T0 + DAY}
    )
    text = m.render().decode()
    name = "insight_stream_model_version"
    assert sample(text, name, model="recs", version="bb") == (T0 + DAY) / 1000
    assert sample(text, name, model="churn", version="cc") == (T0 + DAY) / 1000
    assert 'version="aa"' not in text  # the superseded hash is gone, not left at its old day
    m.observe_stats(engine_with_users().stats())  # the real engine's stats feed it too
    assert 'model="segments"' in m.render().decode()
