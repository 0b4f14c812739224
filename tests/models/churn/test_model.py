import itertools
import pickle

import numpy as np

from insight_stream.events import ClickEvent, OrderEvent
from insight_stream.models.churn import DAY_MS, ChurnConfig, ChurnModel, ChurnUser
from insight_stream.models.churn.model import DECILE

T0 = 10_000 * DAY_MS  # a day boundary


def order(
    uid: str, day: float, total: float = 30.0, kind: str = "order_placed", n: int = 0
) -> OrderEvent:
    ts = T0 + int(day * DAY_MS)
    return OrderEvent(
        event_id=f"{uid}-{ts}-{n}-{kind}",
        order_id=f"{uid}-{ts}-{n}",
        user_id=uid,
        type=kind,
        total=total,
        ts=ts,
    )


def click(uid: str, day: float) -> ClickEvent:
    ts = T0 + int(day * DAY_MS)
    return ClickEvent(event_id=f"{uid}-{ts}-c", user_id=uid, type="page_view", ts=ts)


def at(day: float) -> int:
    return T0 + int(day * DAY_MS)


def test_same_day_orders_merge_and_returns_adjust_value() -> None:
    m = ChurnModel()
    u = m.new_user()
    m.on_event(u, order("u", 0.1, 10.0, n=1))
    m.on_event(u, order("u", 0.9, 20.0, n=2))  # same calendar day: one transaction
    assert (u.x, u.orders, u.first_day, u.last_day) == (0, 2, 10_000, 10_000)
    m.on_event(u, order("u", 3.5, 5.0))
    m.on_event(u, order("u", 3.6, 5.0, kind="order_returned"))
    assert (u.x, u.value, u.last_day) == (1, 30.0, 10_003)
    assert m.bgnbd_stats(u, at(17)) == (1, 3 / 7, 17 / 7)


def test_silent_customer_risk_rises() -> None:
    m = ChurnModel()
    u = m.new_user()
    for d in range(0, 120, 10):
        m.on_event(u, order("u", d))
        m.on_event(u, click("u", d + 2))
    risks = [m.score(u, at(112 + s))[0] for s in (0, 20, 40, 80, 160)]
    assert risks == sorted(risks) and risks[-1] - risks[0] > 0.3
    assert m.p_alive(u, at(300)) < m.p_alive(u, at(115))
    _, reasons = m.score(u, at(200))
    assert any(r.startswith("no order for 90 days (usual gap 10)") for r in reasons)
    assert any(r.startswith("browsing stopped 88 days ago (usual gap 10)") for r in reasons)


def test_active_repeat_buyer_low_risk_and_no_reasons() -> None:
    m = ChurnModel()
    u = m.new_user()
    for d in range(0, 100, 5):
        m.on_event(u, order("u", d))
    risk, reasons = m.score(u, at(96))
    assert risk < 0.2
    assert reasons == []
    assert m.p_alive(u, at(96)) > 0.9


def test_next_checks_bound_the_risk_drift_and_stop_where_risk_crosses_threshold() -> None:
    cfg = ChurnConfig(
        alert_threshold=0.7, reset_threshold=0.5, republish_delta=0.05, refresh_spacing_days=0
    )
    m = ChurnModel(cfg)
    u = m.new_user()
    for d in range(0, 100, 5):
        m.on_event(u, order("u", d))
    ladder = {at(95 + h) for h in cfg.timer_horizons_days}
    checks, now = [], at(95)
    while m.risk(u, now) < 0.7:  # below the threshold: checks while silence raises risk
        due = m.next_check_ms(u, now)
        assert due is not None and due > now
        moved = m.risk(u, due) - m.risk(u, now)
        # a check is a ladder step, or (to the day) where risk rose by the delta
        assert (
            due in ladder
            or moved >= 0.05 > m.risk(u, due - DAY_MS) - m.risk(u, now)
            or (m.risk(u, due) >= 0.7 > m.risk(u, due - DAY_MS))
        )
        assert moved <= 0.05 + (m.risk(u, due) - m.risk(u, due - DAY_MS))  # never a day late
        checks.append(due)
        now = due
    assert len(checks) > 2  # refreshed on the way, not only at the crossing
    assert m.risk(u, checks[-1]) >= 0.7 > m.risk(u, checks[-1] - DAY_MS)  # the crossing
    # once above threshold the timer follows the horizon ladder, then stops
    late = at(95 + 365)
    assert m.next_check_ms(u, late) is None
    assert m.new_user().last_ts == -1 and m.next_check_ms(m.new_user(), at(0)) is None


def test_spaced_refreshes_still_follow_a_decile_and_never_delay_the_alert_crossing() -> None:
    def checks(spacing: float) -> list[tuple[int, float]]:
        m = ChurnModel(ChurnConfig(refresh_spacing_days=spacing))
        u = m.new_user()
        for d in range(0, 40):  # a daily visitor who buys weekly, then silence
            m.on_event(u, click("u", d))
            if d % 7 == 0:
                m.on_event(u, order("u", d + 0.5, 150.0, n=d))
        out, now = [], at(40)
        while (due := m.next_check_ms(u, now)) is not None:  # each check re-publishes
            out.append((due, m.risk(u, due)))
            now = due
        return out

    daily, spaced = checks(0.0), checks(3.0)
    # a check that did not re-publish (its shown risk is older) is not spaced from
    m0, m3 = ChurnModel(ChurnConfig(refresh_spacing_days=0)), ChurnModel(ChurnConfig())
    for m in (m0, m3):
        u = m.new_user()
        for d in range(0, 40):
            m.on_event(u, click("u", d))
    assert m0.next_check_ms(u, at(45), 0.02) == m3.next_check_ms(u, at(45), 0.02) is not None
    assert len(spaced) < len(daily) - 5  # fewer refreshes
    ladder = {at(39 + h) // DAY_MS for h in ChurnConfig().timer_horizons_days}  # last visit
    for (t0, r0), (t1, r1) in itertools.pairwise(spaced):
        assert (
            t1 - t0 >= 3 * DAY_MS  # spaced
            or r1 >= r0 + DECILE  # a decile moved first
            or r1 >= 0.95  # the alert crossing
            or t1 // DAY_MS in ladder
        ), (t0, r0, t1, r1)
    first = next(t for t, r in daily if r >= 0.95) // DAY_MS  # risk moves once a day
    assert first == next(t for t, r in spaced if r >= 0.95) // DAY_MS  # never delayed


def _population(rng: np.random.Generator, n: int) -> tuple[ChurnModel, dict[str, ChurnUser], int]:
    m = ChurnModel(ChurnConfig(min_users_for_fit=50, min_label_examples=100, refit_every_days=28))
    users: dict[str, ChurnUser] = {}
    events = []
    for i in range(n):
        uid = f"u{i}"
        start = rng.uniform(0, 60)
        rate = rng.gamma(0.8, 1 / 20)  # purchases per day
        life = rng.exponential(200)
        t = start
        while t < min(start + life, 400):
            events.append(order(uid, t, n=len(events)))
            t += rng.exponential(1 / rate)
    events.sort(key=lambda e: e.ts)
    refits = 0
    for e in events:
        u = users.setdefault(e.user_id, m.new_user())
        m.on_event(u, e)
        refits += m.maybe_refit(lambda: users.values(), e.ts)
    return m, users, refits


def test_maybe_refit_on_event_time_and_learns_blend_from_stream_labels() -> None:
    m, users, refits = _population(np.random.default_rng(3), 400)
    assert refits >= 8 and m.refits == refits
    assert m.params != {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    assert len(m.examples) >= 100 and m.blend.learned
    # every example's label matured before the stream ended (no look-ahead)
    last_day = max(u.last_day for u in users.values())
    assert all(day + m.config.label_horizon_days <= last_day for _, day, _ in m.examples)
    assert m.maybe_refit(lambda: users.values(), at(400)) is False  # not due again yet


def test_pickle_round_trip() -> None:
    m, users, _ = _population(np.random.default_rng(5), 120)
    m2, users2 = pickle.loads(pickle.dumps((m, users)))
    uid = next(iter(users))
    assert m2.params == m.params and m2.refits == m.refits
    assert m2.score(users2[uid], at(500)) == m.score(users[uid], at(500))
    assert users2[uid].snapshot() == users[uid].snapshot()


def test_blend_not_learned_from_a_handful_of_churners() -> None:
    m = ChurnModel(ChurnConfig(min_label_examples=10, min_label_churners=50))
    snap = (0, 10, 2, 1.0, 50.0, 0, 10, 5, 1.0, 0)
    m.examples.extend([(snap, 20, 0)] * 200 + [(snap, 20, 1)] * 20)
    m._fit_blend()
    assert not m.blend.learned  # 20 churners: keep the hand-set weights
    m.examples.extend([(snap, 20, 1)] * 30)
    m._fit_blend()
    assert m.blend.learned


def test_fading_browser_scores_above_steady_one_at_equal_silence() -> None:
    m = ChurnModel()
    steady, fading = m.new_user(), m.new_user()
    for d in range(0, 60, 2):
        m.on_event(steady, click("s", d))
    for d in (*range(0, 30, 2), 36, 44, 52, 58):  # visits thin out, last one on day 58
        m.on_event(fading, click("f", d))
    assert m.risk(fading, at(60)) > m.risk(steady, at(60))


def test_blend_from_an_older_checkpoint_restores_with_zero_weights_on_new_features() -> None:
    from insight_stream.models.churn.scorer import FEATURES, LogisticBlend

    old = LogisticBlend.__new__(LogisticBlend)
    old.__setstate__(((-2.0, *([0.5] * 8)), tuple([0.1] * 8), True))
    assert len(old.weights) == len(FEATURES) + 1 and old.weights[-2:] == (0.0, 0.0)
    assert len(old.center) == len(FEATURES)
    assert 0.0 < old.risk([1.0] * len(FEATURES)) < 1.0


def test_a_timer_passing_the_risk_it_has_gets_the_same_next_check() -> None:
    m = ChurnModel()
    scheduled = 0
    for n, (buys, clicks) in enumerate([(1, 0), (3, 5), (0, 4), (6, 0)]):
        u = m.new_user()
        for d in range(buys):
            m.on_event(u, order(f"u{n}", 90 + 2 * d))
        for d in range(clicks):
            m.on_event(u, click(f"u{n}", 91 + d))
        for day in (100, 104.5, 117, 160):
            now = at(day)
            for shown in (None, 0.1, 0.5):
                plain = m.next_check_ms(u, now, shown)
                assert m.next_check_ms(u, now, shown, m.risk(u, now)) == plain
                scheduled += plain is not None
    assert scheduled >= 24
