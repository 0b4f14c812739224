"""Model epochs: the shared models learn at event-time epoch ends, so engines that each fold
some partitions and exchange their epochs' ops hold exactly the models of one engine."""

from __future__ import annotations

import pickle
import zlib

from insight_stream.events import EVENT_ADAPTER, Event, decode
from insight_stream.models.churn import ChurnConfig
from insight_stream.processor import EngineConfig, Processor
from insight_stream.processor.epochs import RECS, SEGMENTS, apply_ops
from insight_stream.processor.state import UserState
from insight_stream.processor.versions import model_versions
from insight_stream.sim import Shop, SimConfig

T0 = 1_704_067_200_000  # an hour boundary
HOUR = 3_600_000


def _order(eid: str, user: str, ts: int, items: list[str]) -> Event:
    lines = [dict(item_id=i, category="c", price=5.0) for i in items]
    return EVENT_ADAPTER.validate_python(
        dict(
            event_id=eid,
            order_id=eid,
            user_id=user,
            type="order_placed",
            ts=ts,
            total=5.0 * len(items),
            lines=lines,
        )
    )


def test_shared_models_learn_at_the_epoch_end_and_users_at_once() -> None:
    proc = Processor()
    proc.process(_order("o1", "ann", T0 + 60_000, ["tent", "stove"]))
    proc.process(_order("o2", "bob", T0 + 120_000, ["tent", "stove"]))
    assert proc.recs.similar_items("tent") == []  # the epoch is still open
    assert proc.users["bob"].recs.bought == ["tent", "stove"]  # the user learns at once
    assert [kind for _, _, kind, _ in proc.model_ops] == [SEGMENTS, RECS] * 2
    ck = proc.checkpoint()  # the open epoch's ops are checkpointed with the models
    again = Processor()
    again.restore(ck.users.items(), ck.shared)
    for engine in (proc, again):
        engine.process(_order("o3", "cat", T0 + HOUR + 1, ["mat"]))  # the next epoch
        assert [i for i, _ in engine.recs.similar_items("tent")] == ["stove"]
        assert len(engine.model_ops) == 2  # only the new epoch's ops are queued
    assert model_versions(proc) == model_versions(again)


def _shop_events(users: int, days: int, seed: int) -> list[Event]:
    events = []
    for _, raw in Shop(SimConfig(users=users, days=days, seed=seed)).events():
        ev = decode(raw)
        assert not hasattr(ev, "error_type")
        events.append(ev)
    events.sort(key=lambda e: e.ts)  # one merged order, as the drive loop folds it
    return events


def test_engines_exchanging_epoch_ops_hold_the_models_of_one_engine() -> None:
    """Two engines, each folding half the users, hand each other their epoch's ops (in
    the one merged order) and learn population refits from the whole group: at every
    epoch end their models are those of one engine that folded everything, and so is
    every user's state, model-derived parts included."""
    events = _shop_events(users=300, days=16, seed=5)
    config = EngineConfig(churn=ChurnConfig(min_users_for_fit=40))  # weekly refits here
    whole, halves = Processor(config), (Processor(config), Processor(config))

    def group() -> list[tuple[str, UserState]]:
        users = {**halves[0].users, **halves[1].users}
        return [(uid, users[uid]) for uid in sorted(users)]

    for half in halves:
        half.population = group
    merged: list[int] = [0, 0]  # per half: queued ops already in the group's order
    own: list[list[tuple[int, tuple]]] = [[], []]  # per half: its own ops since, tagged
    hour = events[0].ts // HOUR
    versions: list[dict[int, dict[str, str]]] = [{}, {}, {}]

    def exchange() -> None:
        epoch = [op for _, op in sorted(own[0] + own[1], key=lambda t: t[0])]
        for i, half in enumerate(halves):
            half.model_ops = half.model_ops[: merged[i]] + epoch
            merged[i], own[i] = len(half.model_ops), []

    for n, ev in enumerate(events):
        if ev.ts // HOUR != hour:  # an epoch ends: exchange before anyone applies it
            hour = ev.ts // HOUR
            exchange()
        whole.process(ev)
        i = zlib.crc32(ev.user_id.encode()) % 2
        half = halves[i]
        queued = half.model_ops
        half.process(ev)
        if half.model_ops is not queued:  # it applied the queue at this event
            merged[i] = 0
        own[i] += [(n, op) for op in half.model_ops[merged[i] + len(own[i]) :]]  # its own
        for k, engine in enumerate((whole, *halves)):
            if engine.versions is not None:
                versions[k][engine.versions[0]] = engine.versions[1]
    exchange()
    days = sorted(versions[0])
    assert len(days) >= 15 and whole.segments.ready and whole.churn.refits
    for k in (1, 2):  # each half opened every day: the same models at every day start
        assert {d: versions[k][d] for d in days} == {d: versions[0][d] for d in days}
    for engine in (whole, *halves):
        apply_ops(engine, engine.model_ops[-1][0])  # the queue is all in the group's order
    assert model_versions(halves[0]) == model_versions(halves[1]) == model_versions(whole)
    for half in halves:
        for uid, u in half.users.items():
            assert pickle.dumps(u) == pickle.dumps(whole.users[uid]), uid
