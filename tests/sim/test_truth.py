from __future__ import annotations

import orjson

from insight_stream.sim import GroundTruth, Shop, SimConfig


def test_json_round_trip_survives_serialisation(shop: Shop) -> None:
    data = orjson.loads(orjson.dumps(shop.truth.to_json()))
    assert GroundTruth.from_json(data) == shop.truth


def test_truth_is_decided_before_any_event() -> None:
    shop = Shop(SimConfig(users=50, days=30, seed=9))
    truth = shop.truth
    assert len(truth.users) == 50
    assert all(truth.start_ms <= u.signup_ts < truth.end_ms for u in truth.users.values())
    assert all(
        u.churn_ts is None or u.signup_ts < u.churn_ts < truth.end_ms for u in truth.users.values()
    )
    assert truth.malformed == 0


def test_churned_uses_window_end_by_default(shop: Shop) -> None:
    truth = shop.truth
    churned = truth.churned()
    assert churned == {u for u, t in truth.users.items() if t.churn_ts is not None}
    assert truth.churned(before=truth.start_ms) == set()


def test_staples_are_recorded_and_match_the_customers(shop: Shop) -> None:
    truth, cat = shop.truth, shop.catalog
    assert len(truth.staples) > 0.9 * len(truth.users)  # every type has a positive mean
    for c in shop.customers:
        assert truth.staples.get(c.uid, []) == [cat.item_ids[i] for i in c.staples]
        assert len(set(c.staples)) == len(c.staples)
