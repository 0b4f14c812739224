from __future__ import annotations

from collections import Counter, defaultdict
from itertools import pairwise

import orjson
import pytest

from insight_stream.events import DlqRecord, OrderEvent, decode
from insight_stream.sim import GroundTruth, Shop, SimConfig

WEEK_MS = 7 * 86_400_000


def test_same_seed_same_bytes_other_seed_other_bytes(
    shop: Shop, stream: list[tuple[str, bytes]]
) -> None:
    small = shop.config
    again = list(Shop(small).events())
    assert again == stream
    other = Shop(SimConfig(users=small.users, days=small.days, seed=small.seed + 1))
    assert list(other.events())[:200] != stream[:200]


def test_every_record_decodes_except_the_counted_malformed(
    shop: Shop, stream: list[tuple[str, bytes]]
) -> None:
    decoded = [decode(raw, topic) for topic, raw in stream]
    bad = [d for d in decoded if isinstance(d, DlqRecord)]
    assert len(bad) == shop.truth.malformed
    assert 0.01 < len(bad) / len(stream) < 0.03  # malformed_rate = 0.02
    for (topic, _), event in zip(stream, decoded, strict=True):
        if not isinstance(event, DlqRecord):
            assert isinstance(event, OrderEvent) == (topic == "orders")


def test_stream_is_in_event_time_order_with_both_time_formats(
    stream: list[tuple[str, bytes]],
) -> None:
    valid = [raw for _, raw in stream if not isinstance(decode(raw), DlqRecord)]
    times = [decode(raw).ts for raw in valid]
    assert all(a <= b for a, b in pairwise(times))
    iso = sum(isinstance(orjson.loads(raw)["ts"], str) for raw in valid[:2000])
    assert 100 < iso < 350  # iso_ts_share = 0.1


def test_ids_are_unique_and_well_formed(records: list[tuple[int, str, dict]]) -> None:
    ids = [e["event_id"] for _, _, e in records]
    assert len(ids) == len(set(ids))
    e = next(e for _, _, e in records if e["type"] == "product_view")
    assert e["user_id"].startswith("u") and e["item_id"].startswith("i")
    assert e["session_id"].startswith("s")
    sessions = defaultdict(set)
    for _, _, e in records:
        if "session_id" in e:
            sessions[e["session_id"]].add(e["user_id"])
    assert all(len(users) == 1 for users in sessions.values())


def test_users_act_between_signup_and_churn_only(shop: Shop, records: list) -> None:
    truth = shop.truth
    first: dict[str, int] = {}
    last: dict[str, int] = {}
    for ts, _, e in records:
        first.setdefault(e["user_id"], ts)
        last[e["user_id"]] = ts
    assert set(first) == set(truth.users)
    for uid, t in truth.users.items():
        assert first[uid] == t.signup_ts
        assert last[uid] < (t.churn_ts if t.churn_ts is not None else truth.end_ms)
    assert 0.25 < len(truth.churned()) / len(truth.users) < 0.45


def _auc(scores: list[float], labels: list[bool]) -> float:
    pos = [s for s, y in zip(scores, labels, strict=True) if y]
    neg = [s for s, y in zip(scores, labels, strict=True) if not y]
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


def test_silence_reveals_churners(shop: Shop, records: list) -> None:
    """Recency measured in expected sessions missed separates churners (ROC-AUC)."""
    sessions: dict[str, set[str]] = defaultdict(set)
    first: dict[str, int] = {}
    last: dict[str, int] = {}
    for ts, _, e in records:
        first.setdefault(e["user_id"], ts)
        last[e["user_id"]] = ts
        if "session_id" in e:
            sessions[e["user_id"]].add(e["session_id"])
    end, churned = shop.truth.end_ms, shop.truth.churned()
    users = sorted(last)
    scores = [(end - last[u]) * len(sessions[u]) / max(last[u] - first[u], WEEK_MS) for u in users]
    assert _auc(scores, [u in churned for u in users]) >= 0.85


def test_complements_are_bought_together_far_beyond_chance(shop: Shop, records: list) -> None:
    baskets = [
        {line["item_id"] for line in e["lines"]}
        for _, _, e in records
        if e["type"] == "order_placed"
    ]
    with_a = both = 0
    contains = Counter(i for b in baskets for i in b)
    expected = 0.0
    for a, b in shop.truth.complements:
        for x, y in ((a, b), (b, a)):
            with_a += contains[x]
            both += sum(1 for basket in baskets if x in basket and y in basket)
            expected += contains[x] * contains[y] / len(baskets)
    assert with_a > 100
    assert both / with_a > 0.5  # complement added with p = 0.65
    assert both > 10 * expected


def test_popular_items_dominate_views(records: list) -> None:
    views = Counter(e["item_id"] for _, _, e in records if e["type"] == "product_view")
    counts = sorted(views.values(), reverse=True)
    assert sum(counts[: len(counts) // 10]) > 0.35 * sum(counts)


def test_types_differ_on_their_defining_rates(shop: Shop, records: list) -> None:
    kind = {u: t.type for u, t in shop.truth.users.items()}
    sessions: dict[str, set[str]] = defaultdict(set)
    stat: dict[str, Counter] = defaultdict(Counter)
    for _, _, e in records:
        s = stat[kind[e["user_id"]]]
        if "session_id" in e:
            sessions[kind[e["user_id"]]].add(e["session_id"])
            s["clicks"] += 1
        if e["type"] == "order_placed":
            s["orders"] += 1
            s["coupons"] += e["coupon"] is not None
            for line in e["lines"]:
                s["items"] += line["quantity"]
                s["spend"] += line["price"] * line["quantity"]
        s["returns"] += e["type"] == "order_returned"
    users = Counter(kind.values())

    def conversion(t: str) -> float:
        return stat[t]["orders"] / len(sessions[t])

    def item_price(t: str) -> float:
        return stat[t]["spend"] / stat[t]["items"]

    def visits(t: str) -> float:
        return len(sessions[t]) / users[t]

    assert conversion("high_value_loyal") > 8 * conversion("window_shopper")
    assert item_price("occasional_big_spender") > 3 * item_price("bargain_hunter")
    assert stat["bargain_hunter"]["coupons"] / stat["bargain_hunter"]["orders"] > 0.6
    assert stat["high_value_loyal"]["coupons"] / stat["high_value_loyal"]["orders"] < 0.2
    assert visits("high_value_loyal") > 2.5 * visits("occasional_big_spender")
    depth = {t: stat[t]["clicks"] / len(sessions[t]) for t in users}
    assert depth["window_shopper"] > 1.8 * depth["casual_regular"]
    returns = {t: stat[t]["returns"] / stat[t]["orders"] for t in users}
    assert returns["occasional_big_spender"] > 3 * returns["high_value_loyal"]


def test_demographics_ride_on_clicks_of_the_configured_share(shop: Shop, records: list) -> None:
    carried = {e["user_id"]: e["age_band"] for _, _, e in records if "age_band" in e}
    share = len(carried) / len(shop.truth.users)
    assert abs(share - shop.config.demographics_share) < 0.08
    for uid, age in carried.items():
        assert shop.truth.users[uid].demographics["age_band"] == age


def test_write_produces_three_files_in_time_order(shop: Shop, tmp_path, stream: list) -> None:
    shop = Shop(shop.config)
    calls: list[int] = []
    counts = shop.write(tmp_path, progress=calls.append)
    clicks = (tmp_path / "clickstream.jsonl").read_bytes().splitlines()
    orders = (tmp_path / "orders.jsonl").read_bytes().splitlines()
    assert counts == {
        "clickstream.jsonl": len(clicks),
        "orders.jsonl": len(orders),
        "truth.json": shop.config.users,
    }
    assert sum(calls) == len(clicks) + len(orders) == len(stream)
    assert clicks == [raw for topic, raw in stream if topic == "clickstream"]
    truth = GroundTruth.from_json(orjson.loads((tmp_path / "truth.json").read_bytes()))
    assert truth == shop.truth and truth.malformed > 0


@pytest.mark.parametrize("rate", [0.0, 0.3])
def test_malformed_rate_is_honoured(rate: float) -> None:
    shop = Shop(SimConfig(users=40, days=20, seed=1, malformed_rate=rate))
    stream = list(shop.events())
    bad = sum(isinstance(decode(raw), DlqRecord) for _, raw in stream)
    assert bad == shop.truth.malformed
    assert abs(bad / len(stream) - rate) < 0.05


def _orders_by_user(records: list) -> dict[str, list[dict]]:
    by_user: dict[str, list[dict]] = defaultdict(list)
    for _, _, e in records:
        if e["type"] == "order_placed":
            by_user[e["user_id"]].append(e)
    return by_user


def _items(order: dict) -> set[str]:
    return {line["item_id"] for line in order["lines"]}


def test_staples_are_rebought_far_more_than_other_items(shop: Shop, records: list) -> None:
    repeat: Counter[str] = Counter()
    total: Counter[str] = Counter()
    staples_per_order: dict[str, list[int]] = defaultdict(list)
    for user, orders in _orders_by_user(records).items():
        staples = set(shop.truth.staples.get(user, ()))
        seen: set[str] = set()
        for order in orders:
            items = _items(order)
            for item in items:
                kind = "staple" if item in staples else "other"
                total[kind] += 1
                repeat[kind] += item in seen
            seen |= items
            staples_per_order[shop.truth.users[user].type].append(len(items & staples))
    assert total["staple"] > 300
    assert repeat["staple"] / total["staple"] > 3 * repeat["other"] / total["other"]

    def mean(kind: str) -> float:
        return sum(staples_per_order[kind]) / len(staples_per_order[kind])

    for keen in ("high_value_loyal", "bargain_hunter"):
        assert mean(keen) > 1.5 * mean("occasional_big_spender")


def test_complements_are_followed_up_in_later_orders(shop: Shop, records: list) -> None:
    partner = {a: b for pair in shop.truth.complements for a, b in (pair, pair[::-1])}
    chances = followed = 0
    for orders in _orders_by_user(records).values():
        for n, order in enumerate(orders):
            items = _items(order)
            for a in items:
                b = partner.get(a)
                if b is None or b in items:
                    continue
                chances += 1
                followed += any(
                    b in _items(later) and later["ts"] - order["ts"] >= 2 * 86_400_000
                    for later in orders[n + 1 :]
                )
    assert chances > 100
    assert followed / chances > 0.08  # FOLLOWUP = 0.5 of the complements not bought at once
