"""Explanations in the outputs, drift state across restarts, fairness gauges' source."""

import pickle

import pytest

from insight_stream.events import ChurnAlert, Profile
from insight_stream.processor import Processor
from insight_stream.processor.fairness import FairnessMonitor
from insight_stream.processor.snapshot import _HEADER, _payload
from insight_stream.runtime.metrics import Metrics
from insight_stream.sim import Shop, SimConfig

from .test_processor import run


@pytest.fixture(scope="module")
def shop():
    """Long enough for churn alerts (silences of several weeks) and seeded segments."""
    return list(Shop(SimConfig(users=500, days=100, seed=11)).events())


def test_profiles_and_alerts_carry_signed_contributions_and_runner_up(shop):
    _, profiles, alerts = run(shop)
    assert alerts
    for a in alerts:
        ChurnAlert.model_validate(a)
        tops = a["contributions"]
        assert 1 <= len(tops) <= 3
        pushes = [abs(t["contribution"]) for t in tops]
        assert pushes == sorted(pushes, reverse=True)
    with_seg = [p for p in profiles if p["segment"] is not None]
    assert with_seg
    for p in with_seg[:300]:
        Profile.model_validate(p)
        r = p["segment"]["runner_up"]
        assert r["id"] != p["segment"]["id"] and r["name"]
        assert r["borderline"] == (r["ratio"] >= 0.8)
    # an alerted customer's strongest push raises risk (what made them cross the threshold)
    assert sum(a["contributions"][0]["contribution"] > 0 for a in alerts) > len(alerts) / 2


def test_drift_detectors_and_pending_snapshots_survive_a_checkpoint(shop):
    half = len(shop) // 2
    straight, _, _ = run(shop)
    first, _, _ = run(shop[:half])
    ck = first.checkpoint()
    resumed = Processor()
    resumed.restore(((u, b) for u, b in ck.users.items() if b is not None), ck.shared)
    assert resumed._quality_pending == first._quality_pending
    resumed, _, _ = run(shop[half:], proc=resumed)
    assert resumed.drift.summary() == straight.drift.summary()
    counters = ("quality_orders", "quality_hits", "quality_hits_repeat", "quality_hits_new")
    assert [getattr(resumed, c) for c in counters] == [getattr(straight, c) for c in counters]
    q = straight.stats().quality  # discovery and repeat hits, reported apart
    assert q["recs_repeat_hit_rate_at_10"] > 0 and q["recs_discovery_hit_rate_at_10"] > 0
    assert (
        max(q["recs_repeat_hit_rate_at_10"], q["recs_discovery_hit_rate_at_10"])
        <= (q["recs_hit_rate_at_10"])
    )
    assert q["recs_hit_rate_at_10"] <= (
        q["recs_repeat_hit_rate_at_10"] + q["recs_discovery_hit_rate_at_10"] + 1e-9
    )
    for name, d in straight.drift.detectors.items():
        assert resumed.drift.detectors[name].estimation == d.estimation


def test_a_shared_blob_written_before_drift_restores_with_fresh_detectors(shop):
    proc, _, _ = run(shop[:3000])
    ck = proc.checkpoint()
    state = pickle.loads(_payload(ck.shared, "shared"))
    del state["drift"], state["quality_pending"]
    del state["churn"].__dict__["calibration"]
    old = _HEADER + pickle.dumps(state)
    again = Processor()
    again.restore(((u, b) for u, b in ck.users.items() if b is not None), old)
    assert again.drift.detections == dict.fromkeys(again.drift.detections, 0)
    run(shop[3000:6000], proc=again)  # carries on without the missing fields


def test_fairness_table_reaches_the_gauges(shop):
    proc, _, _ = run(shop)
    proc.fairness = FairnessMonitor(min_users=30)  # a small shop: ~60 users per region
    stats = proc.stats()
    region = stats.fairness["region"]
    assert len(region) == 5 and all(row["users"] >= 30 for row in region.values())
    m = Metrics()
    m.observe_stats(stats)
    body = m.render().decode()
    group = sorted(region)[0]
    assert (
        f'insight_stream_fairness{{attribute="region",group="{group}",metric="alert_rate"}}' in body
    )
    assert 'insight_stream_drift_detections_total{detector="recs_hit_rate"}' in body


def test_small_groups_export_their_size_but_no_rates(shop):
    proc, _, _ = run(shop)
    proc.fairness = FairnessMonitor(min_users=10_000)  # every group too small to compare
    stats = proc.stats()
    assert stats.fairness["region"] and all(
        set(row) == {"users"} for row in stats.fairness["region"].values()
    )
    m = Metrics()
    m.observe_stats(stats)
    body = m.render().decode()
    assert 'attribute="region"' in body and 'metric="users"' in body
    assert 'metric="alert_rate"' not in body
