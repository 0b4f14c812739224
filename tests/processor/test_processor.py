import orjson
import pytest

from insight_stream.events import EVENT_ADAPTER, ChurnAlert, Profile, decode
from insight_stream.models.churn import ChurnConfig
from insight_stream.processor import EngineConfig, Processor
from insight_stream.sim import Shop, SimConfig

T0 = 1_704_067_200_000
DAY = 86_400_000


def ev(**kw):
    kw.setdefault("event_id", f"e{kw['ts']}")
    return EVENT_ADAPTER.validate_python(kw)


def order(uid, ts, total=120.0, item="i1", cat="books"):
    return ev(
        type="order_placed",
        user_id=uid,
        order_id=f"o{ts}",
        ts=ts,
        total=total,
        lines=[{"item_id": item, "category": cat, "price": total, "quantity": 1}],
    )


def visit(uid, ts, item="i2"):
    return ev(
        type="product_view",
        user_id=uid,
        session_id=f"s{ts}",
        item_id=item,
        category="books",
        price=20.0,
        ts=ts,
    )


@pytest.fixture(scope="module")
def small_shop():
    shop = Shop(SimConfig(users=300, days=60, seed=11, malformed_rate=0.01))
    return list(shop.events())


def run(records, proc=None, flush_every=2000):
    proc = proc or Processor()
    profiles, alerts = [], []
    for i, (topic, raw) in enumerate(records):
        rec = decode(raw, topic)
        if hasattr(rec, "error"):
            continue
        proc.process(rec)
        if i % flush_every == flush_every - 1:
            out = proc.drain()
            profiles.extend(out.profiles.values())
            alerts.extend(out.alerts)
    out = proc.drain()
    profiles.extend(out.profiles.values())
    alerts.extend(out.alerts)
    return proc, profiles, alerts


def test_outputs_validate_against_published_schemas(small_shop):
    _, profiles, alerts = run(small_shop)
    assert profiles
    for p in profiles[:500]:
        Profile.model_validate(p)
    for a in alerts:
        ChurnAlert.model_validate(a)


def test_same_input_gives_byte_identical_outputs(small_shop):
    _, p1, a1 = run(small_shop)
    _, p2, a2 = run(small_shop)
    assert orjson.dumps(p1) == orjson.dumps(p2)
    assert orjson.dumps(a1) == orjson.dumps(a2)


def test_profiles_are_coalesced_per_drain():
    proc = Processor()
    for i in range(5):
        proc.process(visit("u1", T0 + i * 1000))
    out = proc.drain()
    assert list(out.profiles) == ["u1"]
    assert proc.drain().profiles == {}


def test_silent_valuable_customer_gets_exactly_one_alert():
    cfg = EngineConfig(churn=ChurnConfig(min_value=100.0))
    proc = Processor(cfg)
    # a regular: an order every week for 10 weeks, then silence
    for w in range(10):
        proc.process(visit("loyal", T0 + w * 7 * DAY))
        proc.process(order("loyal", T0 + w * 7 * DAY + 1000))
    risk_active = proc.churn_risk("loyal", T0 + 9 * 7 * DAY + 2000)
    risks, alerts = [], []
    # other customers keep the stream (and so event time) moving for a year
    for d in range(70, 430, 2):
        proc.process(visit("other", T0 + d * DAY))
        risks.append(proc.churn_risk("loyal"))
        alerts.extend(proc.drain().alerts)
    assert risks[-1] > 0.8 > risk_active
    assert risks[-1] >= risks[len(risks) // 2] >= risks[0]  # risk rises with silence
    mine = [a for a in alerts if a["user_id"] == "loyal"]
    assert len(mine) == 1, mine
    assert mine[0]["value"] >= 100.0 and mine[0]["reasons"]
    assert mine[0]["action"] and mine[0]["top_category"] == "books"
    assert not [a for a in alerts if a["user_id"] == "other"]  # value below min_value


def test_erasure_drops_state_and_publishes_tombstone():
    proc = Processor()
    proc.process(order("gone", T0))
    proc.drain()
    proc.process(ev(type="user_erased", user_id="gone", ts=T0 + 10))
    out = proc.drain()
    assert out.profiles == {"gone": None}
    assert "gone" not in proc.users
    assert proc.checkpoint().users == {"gone": None}


def test_checkpoint_restore_continues_like_an_uninterrupted_run(small_shop):
    half = len(small_shop) // 2
    straight, _, _ = run(small_shop)
    first, _, _ = run(small_shop[:half])
    ck = first.checkpoint()
    resumed = Processor()
    resumed.restore(((u, b) for u, b in ck.users.items() if b is not None), ck.shared)
    resumed, _, _ = run(small_shop[half:], proc=resumed)
    a, b = straight.drain(), resumed.drain()  # nothing pending in either
    assert a.profiles == b.profiles == {}
    for uid in sorted(straight.users)[:100]:
        pa, pb = straight.users[uid].profile, resumed.users[uid].profile
        assert (pa.orders, pa.net, pa.sessions, pa.views) == (
            pb.orders,
            pb.net,
            pb.sessions,
            pb.views,
        )
    assert straight.recommend(sorted(straight.users)[0]) == resumed.recommend(
        sorted(straight.users)[0]
    )
    assert straight.stats().segment_sizes == resumed.stats().segment_sizes


def test_online_quality_scores_the_top10_taken_when_the_session_started():
    proc = Processor(EngineConfig(quality_sample=1))
    # a customer who buys i1 every week or so
    for d in range(0, 80, 8):  # beyond the 7-day just-bought exclusion
        proc.process(
            ev(
                type="product_view",
                user_id="u",
                session_id=f"s{d}",
                item_id="i1",
                category="books",
                price=5.0,
                ts=T0 + d * DAY,
            )
        )
        proc.process(order("u", T0 + d * DAY + 1000, item="i1"))
    hits_before, orders_before = proc.quality_hits, proc.quality_orders
    assert orders_before > 0 and hits_before == orders_before  # the staple was in the top 10
    # a new session whose basket is an item nobody ever saw: viewing it first must not
    # let the session's own cart leak into the score
    t = T0 + 90 * DAY
    proc.process(
        ev(
            type="product_view",
            user_id="u",
            session_id="new",
            item_id="zz9",
            category="toys",
            price=5.0,
            ts=t,
        )
    )
    proc.process(order("u", t + 1000, item="zz9"))
    assert proc.quality_orders == orders_before + 1
    assert proc.quality_hits == hits_before
    assert proc.stats().quality["recs_hit_rate_at_10"] < 1.0
