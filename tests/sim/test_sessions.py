from __future__ import annotations

import random

from insight_stream.events import EVENT_ADAPTER
from insight_stream.sim.catalog import Catalog
from insight_stream.sim.customers import Customer, type_category_tables
from insight_stream.sim.sessions import SessionWriter

T0 = 1_704_067_200_000


def _setup(seed: int = 0) -> tuple[SessionWriter, Customer]:
    rng = random.Random(seed)
    cat = Catalog(300, 8, rng)
    table = type_category_tables(cat.category_weight, rng)[0]
    c = Customer(7, 0, T0, T0 + 10**11, rng, table, 8, {"age_band": "25-34", "region": "north"})
    return SessionWriter(cat, rng), c


def test_buying_session_ends_with_an_order_of_the_carted_items() -> None:
    writer, c = _setup()
    c.conversion = 1.0
    c.cancel = c.returns = 0.0
    out: list = []
    end = writer.session(c, T0, out)
    kinds = [e["type"] for _, _, e in out]
    assert kinds[-1] == "order_placed" and kinds.count("order_placed") == 1
    order = out[-1][2]
    carted = [e["item_id"] for _, _, e in out if e["type"] == "add_to_cart"]
    removed = [e["item_id"] for _, _, e in out if e["type"] == "remove_from_cart"]
    bought = [line["item_id"] for line in order["lines"]]
    assert sorted(bought) == sorted(i for i in carted if i not in removed)
    gross = sum(line["price"] * line["quantity"] for line in order["lines"])
    assert 0 < order["total"] <= gross + 1e-9
    assert end == order["ts"]


def test_session_events_are_ordered_unique_and_valid() -> None:
    writer, c = _setup(1)
    out: list = []
    t = T0
    for _ in range(50):
        t = writer.session(c, t, out) + 3_600_000
    times = [ts for ts, topic, _ in out if topic == "clickstream"]
    assert times == sorted(times)
    ids = [e["event_id"] for _, _, e in out]
    assert len(ids) == len(set(ids))
    for ts, _, e in out:
        assert e["ts"] == ts
        EVENT_ADAPTER.validate_python(e)
    first = [e for _, _, e in out if e["type"] in ("login", "page_view") and "age_band" in e]
    assert first, "demographics ride on login/page_view"


def test_nothing_is_written_at_or_after_the_limit() -> None:
    writer, c = _setup(2)
    c.conversion = 1.0
    c.limit = T0 + 30_000
    out: list = []
    writer.session(c, T0, out)
    assert out and all(ts < c.limit for ts, _, _ in out)
    assert "order_placed" not in {e["type"] for _, _, e in out}


def test_cancels_follow_within_hours_and_returns_days_later() -> None:
    writer, c = _setup(3)
    c.conversion, c.cancel = 1.0, 0.5
    c.returns = 1.0
    out: list = []
    t = T0
    for _ in range(60):
        t = writer.session(c, t, out) + 60_000
    placed = {e["order_id"]: e for _, _, e in out if e["type"] == "order_placed"}
    follow = [e for _, _, e in out if e["type"] in ("order_cancelled", "order_returned")]
    assert {e["type"] for e in follow} == {"order_cancelled", "order_returned"}
    for e in follow:
        delay = e["ts"] - placed[e["order_id"]]["ts"]
        if e["type"] == "order_cancelled":
            assert 0 < delay <= 13 * 3_600_000
        else:
            assert 2 * 86_400_000 <= delay <= 21 * 86_400_000
            assert e["total"] <= placed[e["order_id"]]["total"] + 1e-9


def _buyer(seed: int) -> tuple[SessionWriter, Customer]:
    writer, c = _setup(seed)
    c.conversion, c.cancel, c.returns = 1.0, 0.0, 0.0
    c.basket_m = 30.0  # room for every planned item
    return writer, c


def test_staples_are_viewed_carted_and_bought_when_rebought() -> None:
    writer, c = _buyer(4)
    c.staples, c.rebuy = (3, 17), 1.0
    staples = {writer.catalog.item_ids[i] for i in c.staples}
    out: list = []
    writer.session(c, T0, out)
    viewed = {e["item_id"] for _, _, e in out if e["type"] == "product_view"}
    carted = {e["item_id"] for _, _, e in out if e["type"] == "add_to_cart"}
    bought = {line["item_id"] for line in out[-1][2]["lines"]}
    assert staples <= viewed and staples <= carted and staples <= bought
    c.rebuy = 0.0
    out.clear()
    writer.session(c, T0 + 86_400_000, out)
    assert not staples & {e.get("item_id") for _, _, e in out}


def test_follow_up_complements_are_bought_once_due_and_forgotten_when_stale() -> None:
    writer, c = _buyer(5)
    ids = writer.catalog.item_ids
    day = 86_400_000
    c.followups = [(T0 - day, 11), (T0 - 40 * day, 12), (T0 + 3 * day, 13)]
    out: list = []
    writer.session(c, T0, out)
    bought = {line["item_id"] for line in out[-1][2]["lines"]}
    assert ids[11] in bought and ids[12] not in bought and ids[13] not in bought
    assert (T0 + 3 * day, 13) in c.followups  # not due yet: kept
    assert all(item not in (11, 12) for _, item in c.followups)  # bought or expired: gone


def test_a_complement_not_added_at_checkout_is_scheduled_days_later() -> None:
    writer, c = _buyer(6)
    cat = writer.catalog
    scheduled = 0
    t = T0
    for _ in range(200):
        out: list = []
        t = writer.session(c, t, out) + 3_600_000
        order = out[-1][2]
        bought = {cat.item_ids.index(line["item_id"]) for line in order["lines"]}
        for due, item in c.followups:
            scheduled += 1
            assert item not in bought and cat.complement[item] in bought
            assert 2 * 86_400_000 <= due - order["ts"] <= 14 * 86_400_000
        c.followups.clear()
    assert scheduled > 10
