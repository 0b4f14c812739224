"""Drift detection: ADWIN on the engine's quality signals, one-sided, in event time."""

import pickle

import pytest

from insight_stream.events import DlqRecord, decode
from insight_stream.models.drift import DriftMonitor
from insight_stream.processor import EngineConfig, Processor
from insight_stream.sim import Shop, world

DAY = 86_400_000


def test_only_changes_for_the_worse_count():
    m = DriftMonitor()
    for i in range(3000):  # inertia shrinking (profiles settling): not a drift
        m.update("segment_inertia", 2.0 if i < 1500 else 1.0, i)
    assert m.detections["segment_inertia"] == 0
    for i in range(3000):  # inertia growing: drift, and the segments get an early refit
        m.update("segment_inertia", 1.0 if i < 1500 else 2.0, 3000 + i)
    assert m.detections["segment_inertia"] >= 1
    assert m.take_refit("segments", 10_000) and not m.take_refit("segments", 10_001)
    assert not m.take_refit("churn", 10_000)  # its detector never fired


def test_early_refits_keep_a_minimum_gap_and_the_monitor_pickles():
    m = DriftMonitor(min_gap_ms=DAY)
    m._wanted["churn"] = 0
    assert m.take_refit("churn", 0)
    m._wanted["churn"] = 5
    assert not m.take_refit("churn", DAY - 1)  # still pending, honoured after the gap
    assert m.take_refit("churn", DAY)
    again = pickle.loads(pickle.dumps(m))
    assert again.summary() == m.summary() and again._refitted == m._refitted


def _detections(name: str, **overrides) -> tuple[list[dict], int]:
    """Recs hit-rate drift events of a 1500-user shop scored on every session (``quality_sample=1``:
    as many scored orders as a 12k-user shop at the default 1 in 8)."""
    shop = Shop(world(name, users=1500, days=90, **overrides))
    proc = Processor(EngineConfig(quality_sample=1))
    for topic, raw in shop.events():
        ev = decode(raw, topic)
        if not isinstance(ev, DlqRecord):
            proc.process(ev)
    events = [e for e in proc.drift.events if e["detector"] == "recs_hit_rate"]
    return events, shop.truth.start_ms


@pytest.mark.slow
def test_a_taste_shock_is_detected_within_three_days_and_the_default_shop_stays_quiet():
    events, start = _detections("taste-shock")
    shock = start + 60 * DAY
    after = [e for e in events if e["ts"] >= shock]
    assert not [e for e in events if e["ts"] < shock]
    assert after, "the taste shock was not detected"
    delay_days = (after[0]["ts"] - shock) / DAY
    assert delay_days <= 3.0, delay_days  # 1.4 days at writing (hit rate 0.61 -> 0.48)
    assert after[0]["after"] < after[0]["before"]
    quiet, _ = _detections("default")
    assert quiet == []
