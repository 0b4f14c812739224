"""Re-sent and late events: folded once, refused without a trace, or counted."""

from __future__ import annotations

import pickle

import pytest

from insight_stream.events import EVENT_ADAPTER, DlqRecord, Event, decode
from insight_stream.processor import EngineConfig, Processor, RejectedEvent
from insight_stream.sim import Shop, SimConfig

T0 = 1_704_067_200_000
HOUR = 3_600_000


def click(eid: str, ts: int, user: str = "u1", **kw: object) -> Event:
    base = dict(event_id=eid, user_id=user, type="product_view", item_id="i1", category="books")
    return EVENT_ADAPTER.validate_python({**base, **kw, "ts": ts})


def order(eid: str, ts: int, user: str = "u1") -> Event:
    return EVENT_ADAPTER.validate_python(
        dict(
            event_id=eid,
            order_id=f"o-{eid}",
            user_id=user,
            type="order_placed",
            total=20.0,
            lines=[dict(item_id="i1", category="books", price=20.0)],
            ts=ts,
        )
    )


def snapshot(proc: Processor) -> tuple:
    """Everything a rejected or duplicate event must leave alone."""
    users = {uid: pickle.dumps(u) for uid, u in proc.users.items()}
    return users, proc.stream_time, proc.events, dict(proc._dirty), len(proc.timers)


def test_a_resent_event_is_folded_once_and_counted() -> None:
    proc = Processor()
    proc.process(order("e1", T0))
    proc.process(click("e2", T0 + 1000))
    proc.drain()
    before = snapshot(proc)
    proc.process(order("e1", T0))  # re-sent: same id, same content
    proc.process(click("e2", T0 + 1000))
    assert snapshot(proc) == before
    assert proc.users["u1"].profile.orders == 1
    assert proc.drain().profiles == {}  # nothing to re-publish
    assert proc.stats().extra["duplicates"] == 2 and proc.stats().events == 2


def test_the_same_event_id_for_another_user_is_not_a_duplicate() -> None:
    proc = Processor()
    proc.process(click("e1", T0, user="a"))
    proc.process(click("e1", T0, user="b"))
    assert proc.duplicates == 0 and set(proc.users) == {"a", "b"}


def test_the_dedup_window_survives_a_checkpoint() -> None:
    proc = Processor()
    proc.process(order("e1", T0))
    ck = proc.checkpoint()
    restored = Processor()
    restored.restore(ck.users.items(), ck.shared)
    restored.process(order("e1", T0))
    assert restored.duplicates == 1 and restored.users["u1"].profile.orders == 1


def test_late_events_fold_by_default_are_counted_and_do_not_move_stream_time() -> None:
    proc = Processor(EngineConfig(allowed_lateness_ms=HOUR))
    proc.process(click("e1", T0 + 10 * HOUR))
    proc.process(click("e2", T0 + 9 * HOUR, user="u2"))  # within the lateness: not late
    proc.process(click("e3", T0, user="u3"))  # 10 h behind: late
    assert (proc.late_events, proc.stream_time, proc.events) == (1, T0 + 10 * HOUR, 3)
    assert "u3" in proc.users
    assert proc.stats().extra == {"duplicates": 0, "late_events": 1, "erasures": 0}


def test_late_events_under_dlq_raise_and_change_nothing() -> None:
    proc = Processor(EngineConfig(allowed_lateness_ms=HOUR, late_policy="dlq"))
    proc.process(click("e1", T0 + 10 * HOUR))
    proc.drain()
    before = snapshot(proc)
    for ev in (click("e2", T0), order("e3", T0 + 8 * HOUR), click("e4", T0, user="new")):
        with pytest.raises(RejectedEvent) as err:
            proc.process(ev)
        assert err.value.reason == "late"
        assert "behind stream time" in err.value.message and "allowed lateness 3600000" in str(
            err.value
        )
        assert snapshot(proc) == before
    assert "new" not in proc.users and proc.late_events == 0
    proc.process(click("e2", T0 + 10 * HOUR))  # the refused id was not remembered
    assert proc.duplicates == 0 and proc.events == 2


def test_erasure_is_never_skipped_as_late_or_duplicate() -> None:
    proc = Processor(EngineConfig(allowed_lateness_ms=0, late_policy="dlq"))
    proc.process(click("e1", T0 + 10 * HOUR))
    erase = EVENT_ADAPTER.validate_python(
        dict(event_id="e1", user_id="u1", type="user_erased", ts=T0)
    )
    proc.process(erase)
    assert "u1" not in proc.users and proc.drain().profiles == {"u1": None}


def test_engine_config_validates_lateness() -> None:
    with pytest.raises(ValueError, match="late_policy"):
        EngineConfig(late_policy="drop")
    with pytest.raises(ValueError, match="allowed_lateness_ms"):
        EngineConfig(allowed_lateness_ms=-1)
    with pytest.raises(ValueError, match="dedup_window"):
        EngineConfig(dedup_window=-1)


def test_an_honest_simulated_shop_has_no_duplicates_or_late_events() -> None:
    proc = Processor()
    for topic, raw in Shop(SimConfig(users=120, days=30, seed=3)).events():
        ev = decode(raw, topic)
        assert not isinstance(ev, DlqRecord), ev
        proc.process(ev)
    assert proc.stats().extra == {"duplicates": 0, "late_events": 0, "erasures": 0}
