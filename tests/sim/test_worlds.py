"""Simulator worlds: presets, validation, and that each world plants what it says."""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict

import orjson
import pytest

from insight_stream.sim import WORLDS, GroundTruth, Shop, SimConfig, world
from insight_stream.sim.types import ALL_TYPES, TYPES

DAY_MS = 86_400_000


def test_default_world_is_todays_shop_byte_for_byte(stream: list[tuple[str, bytes]]) -> None:
    """The conftest shop (400 users, 90 days, seed 3, 2 % malformed), hashed before the
    worlds existed: new settings must not move a single byte of the default world."""
    h = hashlib.sha256()
    for topic, raw in stream:
        h.update(topic.encode())
        h.update(raw)
    assert h.hexdigest()[:16] == "42748f6f11de47da"
    assert world("default") == SimConfig()


@pytest.mark.parametrize("name", sorted(WORLDS))
def test_every_preset_builds_and_labels_itself(name: str) -> None:
    cfg = world(name, users=30, days=14, seed=1)
    shop = Shop(cfg)
    assert len(shop.truth.types) == cfg.n_types
    assert shop.truth.config["world"] == name
    assert next(iter(shop.records()))  # yields events


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("n_types", 2),
        ("n_types", 9),
        ("complements", "sometimes"),
        ("complement_lag_days", (0.0, 5.0)),
        ("complement_lag_days", (6.0, 2.0)),
        ("churn", "sudden"),
        ("churn_fade_days", 0),
        ("catalogue", "books"),
    ],
)
def test_invalid_world_settings_raise_naming_the_field(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field):
        SimConfig(**{field: value})


def test_unknown_world_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown world"):
        world("atlantis")


def test_extra_types_are_different_behaviours_not_relabels() -> None:
    """Every type differs from every other by >= 1.8x on at least two of the means
    the profile can observe."""
    assert ALL_TYPES[:5] == TYPES
    keys = (
        "visits_per_week",
        "views_per_session",
        "conversion",
        "basket",
        "cart_rate",
        "coupon_rate",
        "return_rate",
    )
    for i, a in enumerate(ALL_TYPES):
        for b in ALL_TYPES[i + 1 :]:
            ratios = [
                max(getattr(a, k), getattr(b, k)) / min(getattr(a, k), getattr(b, k)) for k in keys
            ]
            premium = abs(a.tiers[2] - b.tiers[2]) > 0.3 or abs(a.tiers[0] - b.tiers[0]) > 0.3
            assert sum(r >= 1.8 for r in ratios) + premium >= 2, (a.name, b.name)


@pytest.fixture(scope="module")
def eight() -> tuple[Shop, list]:
    shop = Shop(world("eight-types", users=500, days=60, seed=4))
    return shop, list(shop.records())


def test_eight_type_world_shows_its_new_behaviours(eight: tuple[Shop, list]) -> None:
    shop, records = eight
    kinds = {u: t.type for u, t in shop.truth.users.items()}
    assert len(set(kinds.values())) == 8
    orders, returns, carts, views, sessions = (Counter() for _ in range(5))
    for _, _, e in records:
        kind = kinds[e["user_id"]]
        t = e["type"]
        orders[kind] += t == "order_placed"
        returns[kind] += t == "order_returned"
        carts[kind] += t == "add_to_cart"
        views[kind] += t == "product_view"
        sessions[kind] += t == "page_view" and "category" not in e
    rate = {k: returns[k] / orders[k] for k in orders if orders[k]}
    assert rate["serial_returner"] > 2 * max(v for k, v in rate.items() if k != "serial_returner")
    to_order = {k: orders[k] / sessions[k] for k in sessions}
    assert to_order["cart_abandoner"] < 0.5 * to_order["casual_regular"]
    assert carts["cart_abandoner"] / views["cart_abandoner"] > 0.3
    per_session = {k: views[k] / sessions[k] for k in sessions}
    assert per_session["mission_shopper"] == min(per_session.values())
    assert to_order["mission_shopper"] == max(to_order.values())


def _orders(records: list) -> list[tuple[int, str, set[str]]]:
    return [
        (ts, e["user_id"], {line["item_id"] for line in e["lines"]})
        for ts, _, e in records
        if e["type"] == "order_placed"
    ]


def test_later_complements_never_share_a_basket_and_follow_within_the_lag() -> None:
    shop = Shop(world("later-complements", users=600, days=90, seed=2))
    partner = {}
    for a, b in shop.truth.complements:
        partner[a], partner[b] = b, a
    first: dict[tuple[str, str], int] = {}
    lags = []
    together = paired = 0
    for ts, uid, items in _orders(list(shop.records())):
        together += any(partner.get(i) in items for i in items)
        paired += any(i in partner for i in items)
        for i in items:
            if i in partner and (uid, partner[i]) in first:
                lags.append((ts - first[(uid, partner[i])]) / DAY_MS)
            first.setdefault((uid, i), ts)
    assert together < 0.1 * paired  # only by chance (both items also to the user's taste)
    assert len(lags) > 50
    assert sum(1 <= lag <= 40 for lag in lags) / len(lags) > 0.8  # due 1-10 d, bought at next visit


def test_basket_complements_are_bought_together_more_than_in_the_default_world() -> None:
    def share(name: str) -> float:
        shop = Shop(world(name, users=300, days=60, seed=2))
        partner = {a: b for a, b in shop.truth.complements} | {
            b: a for a, b in shop.truth.complements
        }
        orders = _orders(list(shop.records()))
        paired = [o for o in orders if any(i in partner for i in o[2])]
        return sum(any(partner.get(i) in o[2] for i in o[2]) for o in paired) / len(paired)

    later = share("later-complements")
    assert share("basket-complements") > share("default") > 5 * later


def test_gradual_churners_fade_instead_of_stopping_dead() -> None:
    shop = Shop(world("gradual-churn", users=600, days=120, seed=5))
    truth: GroundTruth = shop.truth
    starts: dict[str, list[int]] = defaultdict(list)
    for ts, _, e in shop.records():
        if e["type"] == "page_view" and "category" not in e:
            starts[e["user_id"]].append(ts)
    before = early = late = 0
    for uid, t in truth.users.items():
        if t.churn_ts is None:
            assert t.gone_ts is None
            continue
        assert t.gone_ts is not None and t.churn_ts < t.gone_ts <= truth.end_ms
        s = starts[uid]
        assert all(ts < t.gone_ts for ts in s)
        c, w = t.churn_ts, 21 * DAY_MS  # the fade lasts 42 days: two 3-week halves
        before += sum(c - w <= ts < c for ts in s)
        early += sum(c <= ts < c + w for ts in s)
        late += sum(c + w <= ts < c + 2 * w for ts in s)
    assert before > early > late > 0.1 * before  # still visiting, less and less often
    assert late < 0.6 * before
    data = orjson.loads(orjson.dumps(truth.to_json()))
    assert GroundTruth.from_json(data) == truth


def test_grocery_is_repeat_heavy_and_fashion_discovery_heavy() -> None:
    def repeat_share(name: str) -> float:
        seen: dict[str, set[str]] = defaultdict(set)
        repeat = total = 0
        for _, uid, items in _orders(list(Shop(world(name, users=300, days=90, seed=3)).records())):
            repeat += len(items & seen[uid])
            total += len(items)
            seen[uid] |= items
        return repeat / total

    assert repeat_share("grocery") > repeat_share("default") > repeat_share("fashion")
