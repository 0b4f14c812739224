"""Published churn risk stays fresh: a quiet customer's profile is re-published as silence
raises their risk, and a refit re-publishes the users it moved (processor/freshness.py)."""

from __future__ import annotations

import pickle
from typing import Any

import orjson
import pytest

from insight_stream.models.churn.model import DECILE
from insight_stream.processor import Processor
from insight_stream.processor.driver import Driver
from insight_stream.processor.freshness import refresh_published, stale

from .test_processor import DAY, T0, order, visit


def _published(records: list[Any]) -> dict[str, dict[str, Any]]:
    latest: dict[str, dict[str, Any]] = {}
    for topic, key, value, _ in records:
        if topic == "profiles" and value is not None:
            latest[key.decode()] = orjson.loads(value)
    return latest


@pytest.mark.parametrize("visits", [False, True], ids=["buyer", "daily-visitor"])
def test_a_quiet_customers_published_risk_trails_by_a_decile_at_most(visits: bool) -> None:
    """Never more than a decile behind; no more than the delta once the refresh spacing
    has passed since the last refresh (plus a day's rise: the timers' resolution)."""
    proc = Processor()
    churn = proc.config.churn
    out: list[Any] = []
    driver = Driver(proc, out.append, flush_events=1)
    for d in range(0, 60, 6):  # a regular buyer (and daily visitor), then silence
        driver.process(order("u1", T0 + d * DAY, item=f"i{d}"))
        for v in range(6 if visits else 0):
            driver.process(visit("u1", T0 + (d + v) * DAY + 3_600_000))
    driver.drain(seal=True)
    checked = spaced = 0
    worst = 0.0
    refreshed, last = None, 60
    for day in range(60, 400):
        now = T0 + day * DAY
        proc.advance_time(now)
        driver.drain(seal=True)
        shown = _published(out)["u1"]["churn"]["risk"]
        if shown != refreshed:
            refreshed, last = shown, day
        true = proc.churn_risk("u1", now)
        if true < churn.alert_threshold:  # above it: the ladder refreshes
            rise = proc.churn_risk("u1", now + DAY) - true
            worst = max(worst, true - shown)
            assert true - shown <= DECILE + rise + 1e-6, (day, shown, true)
            if day - last >= churn.refresh_spacing_days:
                assert true - shown <= churn.republish_delta + rise + 1e-6, (day, shown, true)
                spaced += 1
            checked += 1
    assert checked > 20 and spaced > 0
    assert worst > churn.republish_delta  # risk climbed faster than the delta: spaced
    assert _published(out)["u1"]["churn"]["risk"] > 0.5  # it did move with the silence


def test_a_refit_republishes_the_users_whose_risk_it_moved() -> None:
    proc = Processor()
    out: list[Any] = []
    driver = Driver(proc, out.append, flush_events=10_000)
    for i in range(20):
        driver.process(order(f"u{i}", T0 + i * 3_600_000, item=f"i{i}"))
    driver.drain(seal=True)
    assert refresh_published(proc, proc.stream_time) == 0  # nothing moved
    blend = proc.churn.blend
    blend.weights = (blend.weights[0] + 15.0, *blend.weights[1:])  # a refit raising all
    moved = refresh_published(proc, proc.stream_time)
    assert moved == 20
    out.clear()
    driver.drain(seal=True)
    shown = _published(out)
    assert len(shown) == 20
    for uid, profile in shown.items():
        assert abs(profile["churn"]["risk"] - proc.churn_risk(uid)) < 1e-5


def test_only_window_ends_set_the_risk_that_freshness_decisions_read() -> None:
    """Early and settle drains run when a runtime commits (wall clock): decisions that read
    them would differ between Kafka and replay."""
    proc = Processor()
    driver = Driver(proc, lambda r: None, flush_events=10_000)
    driver.process(order("u1", T0))
    driver.drain(seal=False)
    u = proc.users["u1"]
    assert u.published_risk is None and stale(u, 0.0, 0.5)
    driver.drain(seal=True)
    assert u.published_risk is not None and not stale(u, u.published_risk, 0.005)
    sealed = u.published_risk
    proc.advance_time(T0 + 40 * DAY)  # silence: a timer re-publishes u1 at a higher risk
    driver.process(visit("u1", T0 + 40 * DAY))
    driver.drain(seal=False)  # ... early: the risk decisions read is still the sealed one
    assert u.published_risk == sealed
    driver.drain(seal=True)
    assert u.published_risk != sealed


def test_user_state_from_before_published_risk_restores_as_stale() -> None:
    proc = Processor()
    proc.process(order("u1", T0))
    u = proc.users["u1"]
    old = u.__getstate__()[:-1]  # the 8 fields a checkpoint of the previous build holds
    restored = pickle.loads(pickle.dumps(u))
    restored.__setstate__(old)
    assert restored.published_risk is None and stale(restored, 0.1, 0.5)
    assert restored.profile.orders == 1
    with pytest.raises(ValueError, match="user state has 7 fields; this build reads 8 or 9"):
        restored.__setstate__(old[:-1])  # not a layout any build wrote: refused, not misread
