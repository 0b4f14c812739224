"""``user_erased`` removes a user from every place the engine keys by user id."""

from __future__ import annotations

import pickle

from insight_stream.events import EVENT_ADAPTER, Event
from insight_stream.processor import Processor
from insight_stream.processor.contract import STATE_FORMAT
from insight_stream.sim import Shop, SimConfig

T0 = 1_704_067_200_000
HOUR = 3_600_000


def ev(eid: str, ts: int, user: str, kind: str = "product_view", **kw: object) -> Event:
    base: dict[str, object] = dict(event_id=eid, user_id=user, type=kind, ts=ts)
    if kind == "order_placed":
        base.update(
            order_id=f"o-{eid}", total=20.0, lines=[dict(item_id="i1", category="b", price=20.0)]
        )
    elif kind != "user_erased":
        base.update(item_id="i1", category="books", session_id=f"s-{eid}")
    return EVENT_ADAPTER.validate_python({**base, **kw})


def busy(proc: Processor, user: str, start: int) -> int:
    """A few sessions with orders: the user gets a timer and a warm-up row."""
    ts = start
    for i in range(6):
        proc.process(ev(f"{user}-c{i}", ts, user))
        proc.process(ev(f"{user}-o{i}", ts + 60_000, user, "order_placed"))
        ts += 24 * HOUR
    return ts


def test_erasure_leaves_no_id_in_memory_or_checkpoint() -> None:
    proc = Processor()
    busy(proc, "keep-me", T0)
    end = busy(proc, "erase-me", T0)
    assert proc.timers._heap and any(u == "erase-me" for _, u in proc.timers._heap)
    # still warming up: the sample keys rows by user id, and so do its queued ops (these
    # events are late, so no epoch ended since: processor/epochs.py)
    assert any(op[0] == "erase-me" for _, _, _, op in proc.model_ops)
    proc.checkpoint()
    proc.process(ev("x", end, "erase-me", "user_erased"))
    ck = proc.checkpoint()
    assert ck.users == {"erase-me": None}  # -> store delete and changelog tombstone
    assert b"erase-me" not in ck.shared  # the window, the warm-up sample, counters
    assert b"keep-me" in ck.shared  # (the scan would see an id that is there)
    assert "erase-me" not in proc.users
    assert not [u for _, u in proc.timers._heap if u == "erase-me"]
    assert "erase-me" not in proc.segments._warm.seen | set(proc.segments._warm.rows)
    assert "erase-me" not in proc._quality_pending
    assert "erase-me" not in {**proc._dirty, **proc._touched}
    assert proc.stats().extra["erasures"] == 1
    # the tombstone goes out with the next drain of any kind, even alerts-only
    assert proc.drain(seal=False, profiles=False).profiles == {"erase-me": None}
    assert proc.drain().profiles.get("erase-me", "absent") == "absent"
    assert b"erase-me" not in pickle.dumps(proc.__dict__)


def test_erasure_count_survives_restore_and_older_blobs_restore() -> None:
    proc = Processor()
    busy(proc, "a", T0)
    proc.process(ev("x", T0 + 10 * 24 * HOUR, "a", "user_erased"))
    shared = proc.checkpoint().shared
    again = Processor()
    again.restore([], shared)
    assert again.stats().extra["erasures"] == 1
    # a format-2 blob written before erasures were counted
    state = pickle.loads(shared[1:])
    del state["erasures"]
    older = bytes([STATE_FORMAT]) + pickle.dumps(state)
    third = Processor()
    third.restore([], older)
    assert third.stats().extra["erasures"] == 0


def test_erasure_in_a_shop_changes_only_that_user() -> None:
    """In a whole shop: one tombstone, everyone else still there."""
    shop = Shop(SimConfig(users=40, days=20, seed=2))
    events = [EVENT_ADAPTER.validate_json(raw) for _, raw in shop.events()]
    victim = events[0].user_id
    proc = Processor()
    for e in events:
        proc.process(e)
    proc.drain()
    proc.process(ev("erase", events[-1].ts + 1, victim, "user_erased"))
    out = proc.drain()
    assert out.profiles == {victim: None}
    assert victim not in proc.users and len(proc.users) == len({e.user_id for e in events}) - 1
