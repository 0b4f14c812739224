"""Idle users held packed (processor/users.py): the same outputs and state, less memory."""

from __future__ import annotations

from typing import Any

import pytest

from insight_stream.events import DlqRecord, decode
from insight_stream.processor import EngineConfig, Processor
from insight_stream.processor.driver import Driver
from insight_stream.processor.state import UserState, pack, unpack
from insight_stream.processor.users import PackedUser, UserTable
from insight_stream.sim import Shop, SimConfig


def _events(users: int, days: int, seed: int) -> list[Any]:
    shop = Shop(SimConfig(users=users, days=days, seed=seed, malformed_rate=0.01))
    return [e for _, raw in shop.events() if not isinstance(e := decode(raw), DlqRecord)]


def _canon(u: UserState) -> tuple:
    """Every value of the state, compared with ``==`` (floats bit for bit)."""
    p = u.profile
    return (
        tuple(getattr(p, s) for s in type(p).__slots__),
        u.churn.__getstate__(),
        u.recs.__getstate__(),
        tuple(getattr(u, s) for s in ("segment", "timer_at", "updated_at", "recent")),
        (u.published_bucket, u.published_risk),
    )


def _run(events: list[Any], mode: str) -> tuple[list[Any], Processor]:
    """Fold ``events``; ``mode`` "off": nothing packed; "idle": the default; "all": every
    user packed after every event, and a checkpoint every 500 events (the harshest)."""
    above = 10**9 if mode == "off" else 0  # "idle": every window end packs
    proc = Processor(EngineConfig(flush_events=700, pack_users_above=above))
    out: list[Any] = []
    driver = Driver(proc, out.append, 700)
    blobs: dict[str, bytes | None] = {}
    for i, ev in enumerate(events):
        driver.process(ev)
        if mode == "all":
            proc.users.pack_idle(keep=())
            if i % 500 == 0:
                blobs.update(proc.checkpoint().users)
        if i % 97 == 0:
            driver.drain(seal=False, everyone=False)  # early publishes read users too
    driver.drain(seal=False)
    out.append(("checkpoint", sorted({**blobs, **proc.checkpoint().users}.items())))
    return out, proc


@pytest.fixture(scope="module")
def runs() -> dict[str, tuple[list[Any], Processor]]:
    events = _events(users=250, days=45, seed=5)
    return {mode: _run(events, mode) for mode in ("off", "idle", "all")}


def test_packing_idle_users_changes_no_output_and_no_state(runs: dict[str, Any]) -> None:
    plain, plain_proc = runs["off"]
    assert plain_proc.users.packed == 0
    alerts = [r for r in plain if r[0] == "alerts"]
    assert len(alerts) > 0 and len([r for r in plain if r[0] == "profiles"]) > 1000
    for mode in ("idle", "all"):
        out, proc = runs[mode]
        assert out[:-1] == plain[:-1], mode  # every record, in order, byte for byte
        assert sorted(proc.users) == sorted(plain_proc.users)
        for uid in plain_proc.users:
            assert _canon(proc.users.peek(uid)) == _canon(plain_proc.users.peek(uid)), uid
        # checkpoints hold the same states (pickles may differ in memo layout only)
        got = dict(out[-1][1])
        want = dict(plain[-1][1])
        assert got.keys() == want.keys()
        restored, expected = Processor(), Processor()
        restored.restore(((u, b) for u, b in got.items() if b is not None), None)
        expected.restore(((u, b) for u, b in want.items() if b is not None), None)
        for uid in expected.users:
            assert _canon(restored.users.peek(uid)) == _canon(expected.users.peek(uid))


def test_idle_users_are_held_packed_and_smaller(runs: dict[str, Any]) -> None:
    _, proc = runs["idle"]
    users = proc.users
    assert 0 < users.packed < len(users)
    packed = [u for u in users if isinstance(users.held(u), bytes)]
    for uid in packed[:50]:
        blob = users.held(uid)
        assert isinstance(blob, bytes) and len(blob) < 1_500
        assert _canon(unpack(blob)) == _canon(users.peek(uid))


def test_a_read_leaves_a_user_packed_and_a_write_unpacks_it(runs: dict[str, Any]) -> None:
    _, proc = runs["idle"]
    users = proc.users
    uid = next(u for u in users if isinstance(users.held(u), bytes))
    before = users.packed
    proc.recommend(uid)
    proc.churn_risk(uid)
    assert users.peek(uid) is not users.peek(uid)  # a fresh copy per read
    assert isinstance(users.held(uid), bytes) and users.packed == before
    live = users.get(uid)
    assert live is users.get(uid) and users.packed == before - 1
    users.pack_idle(keep=())
    assert isinstance(users.held(uid), bytes)
    popped = users.pop(uid)
    assert isinstance(popped, UserState) and uid not in users


def test_pack_round_trips_every_value_of_a_simulated_users_state(runs: dict[str, Any]) -> None:
    _, proc = runs["off"]
    for uid in proc.users:
        u = proc.users.peek(uid)
        assert _canon(unpack(pack(u))) == _canon(u)


def test_a_view_changed_and_handed_back_keeps_the_change_and_packs_only_what_was_read(
    runs: dict[str, Any],
) -> None:
    _, proc = runs["idle"]
    users = proc.users
    uid = next(u for u in users if isinstance(users.held(u), bytes))
    before = users.peek(uid)
    v = users.view(uid)
    assert isinstance(v, PackedUser)
    v.timer_at = 123
    v.churn.alert_armed = not before.churn.alert_armed  # a part read and changed
    users.put(uid, v)
    after = users.peek(uid)
    assert after.timer_at == 123 and after.churn.alert_armed != before.churn.alert_armed
    assert after.recs.__getstate__() == before.recs.__getstate__()
    assert isinstance(users.held(uid), bytes)
    other = users.view(uid)
    users.get(uid)  # unpacked while the view is out: handing the view back would lose it
    with pytest.raises(RuntimeError, match="changed while a packed view"):
        users.put(uid, other)


def test_a_packed_view_pickles_as_the_user_state_it_stands_for(runs: dict[str, Any]) -> None:
    """A group exchanges its users as pickles (runtime/sharing.py): never as marshal."""
    import pickle

    _, proc = runs["idle"]
    uid = next(u for u in proc.users if isinstance(proc.users.held(u), bytes))
    got = pickle.loads(pickle.dumps(dict(proc.users.items())[uid]))
    assert type(got) is UserState and _canon(got) == _canon(proc.users.peek(uid))


def test_small_engines_pack_nobody() -> None:
    """Below ``pack_users_above`` users, packing would cost throughput for little memory."""
    events = _events(users=60, days=20, seed=9)
    for above, packs in ((len({e.user_id for e in events}), False), (0, True)):
        proc = Processor(EngineConfig(flush_events=300, pack_users_above=above))
        driver = Driver(proc, lambda r: None, 300)
        for ev in events:
            driver.process(ev)
        assert (proc.users.packed > 0) == packs


def test_an_empty_table_packs_nothing() -> None:
    assert UserTable(above=0).pack_idle(keep=()) == 0
