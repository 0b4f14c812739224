from insight_stream.events import EVENT_ADAPTER
from insight_stream.models.profile import DAY_MS, ProfileConfig, ProfileState

CFG = ProfileConfig()
T0 = 1_704_067_200_000  # 2024-01-01: realistic epoch ms (small ints read as epoch seconds)


def ev(**kw):
    base = {"event_id": "e", "user_id": "u1", "ts": 0}
    merged = {**base, **kw}
    merged["ts"] += T0
    return EVENT_ADAPTER.validate_python(merged)


def order(kind="order_placed", ts=0, total=30.0, coupon=None, cat="books"):
    return ev(
        type=kind,
        order_id="o1",
        ts=ts,
        total=total,
        coupon=coupon,
        lines=[{"item_id": "i1", "category": cat, "price": total, "quantity": 1}],
    )


def test_rfm_and_net_value_follow_cancellations_and_returns():
    p = ProfileState(T0)
    p.on_order(order(ts=0, total=50.0, coupon="X"), CFG)
    p.on_order(order(ts=DAY_MS, total=30.0), CFG)
    p.on_order(order("order_cancelled", ts=DAY_MS + 1, total=30.0), CFG)
    p.on_order(order("order_returned", ts=5 * DAY_MS, total=50.0), CFG)
    assert p.orders == 2 and p.frequency == 1
    assert p.net == 0.0 and p.gross == 80.0
    assert p.avg_order_value == 40.0
    assert p.discount_sensitivity() == 0.5
    assert p.recency_days(T0 + 11 * DAY_MS) == 10.0


def test_sessions_counted_by_id_or_inactivity_gap():
    p = ProfileState(T0)
    for ts, sid in [(0, "a"), (1000, "a"), (2000, "b")]:
        p.on_click(ev(type="page_view", session_id=sid, ts=ts), CFG)
    assert p.sessions == 2
    q = ProfileState(T0)
    for minutes in (0, 5, 10, 100):  # no session ids: a 90-minute gap starts a new session
        q.on_click(ev(type="page_view", ts=minutes * 60_000), CFG)
    assert q.sessions == 2 and q.session_events == 4


def test_category_affinity_decays_in_event_time():
    p = ProfileState(T0)
    for i in range(5):
        p.on_click(ev(type="product_view", category="old", item_id="i", ts=i), CFG)
    p.on_click(ev(type="product_view", category="new", item_id="i", ts=90 * DAY_MS), CFG)
    p.on_click(ev(type="product_view", category="new", item_id="i", ts=90 * DAY_MS + 1), CFG)
    top = p.top_categories(2)
    assert top[0][0] == "new"  # 2 recent views beat 5 views three half-lives ago
    assert abs(sum(s for _, s in top) - 1.0) < 1e-3


def test_funnel_and_demographics():
    p = ProfileState(T0)
    for i in range(4):
        p.on_click(ev(type="product_view", item_id="i", ts=i, session_id="s", region="EU"), CFG)
    p.on_click(ev(type="add_to_cart", item_id="i", ts=5, session_id="s", device="mobile"), CFG)
    p.on_order(order(ts=6), CFG)
    assert p.funnel()["view_to_cart"] == 0.25
    assert p.funnel()["cart_to_order"] == 1.0
    assert dict(p.demographics) == {"region": "EU"}  # device is not kept (minimised)


def test_only_band_shaped_age_band_and_region_are_kept():
    p = ProfileState(T0)
    p.on_click(
        ev(type="login", ts=1, age_band="25-34", gender="f", device="ios", channel="ads"), CFG
    )
    assert dict(p.demographics) == {"age_band": "25-34"}
    p.on_click(
        ev(type="login", ts=2, region="north", age_band="call me at +1 555 0100, ask for Jo!"), CFG
    )
    assert dict(p.demographics) == {"age_band": "25-34", "region": "north"}
    p.demographics = (("age_band", "65+"), ("gender", "m"))  # restored from an older build
    p.on_click(ev(type="login", ts=3, region="EU"), CFG)
    assert dict(p.demographics) == {"age_band": "65+", "region": "EU"}
