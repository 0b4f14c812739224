"""Coalescing windows: sealed at a position in the input, so every source publishes the same
final profiles; unsealed drains publish early without changing what the window ends with."""

from __future__ import annotations

from typing import Any

import orjson

from insight_stream.events import DlqRecord, decode
from insight_stream.processor import EngineConfig, Processor
from insight_stream.processor.driver import Driver, feed_raw
from insight_stream.sim import Shop, SimConfig

from .test_processor import DAY, T0, order, visit


def _final(records: list[tuple[str, bytes | None, bytes | None, Any]]) -> dict[str, Any]:
    latest: dict[str, Any] = {}
    for topic, key, value, _ in records:
        if topic == "profiles":
            latest[key.decode()] = None if value is None else orjson.loads(value)
    return latest


def test_unsealed_drains_do_not_change_the_final_profiles() -> None:
    events = [
        e
        for _, raw in Shop(SimConfig(users=150, days=40, seed=4)).events()
        if not isinstance(e := decode(raw), DlqRecord)
    ]
    sealed_only: list[Any] = []
    d1 = Driver(Processor(EngineConfig(flush_events=500)), sealed_only.append, 500)
    for e in events:
        d1.process(e)
    d1.drain(seal=False)
    eager: list[Any] = []
    d2 = Driver(Processor(EngineConfig(flush_events=500)), eager.append, 500)
    for i, e in enumerate(events):
        d2.process(e)
        if i % 37 == 0:
            d2.drain(seal=False, everyone=False)  # like a commit interval on Kafka
    d2.drain(seal=False)
    assert len(eager) > len(sealed_only)  # it did publish early, and more often
    assert _final(eager) == _final(sealed_only)
    assert [r for r in eager if r[0] == "alerts"] == [r for r in sealed_only if r[0] == "alerts"]


def test_provisional_drain_publishes_only_users_touched_since_the_last_drain() -> None:
    proc = Processor()
    proc.process(visit("a", T0))
    proc.process(visit("b", T0 + 1))
    assert set(proc.drain(seal=False, everyone=False).profiles) == {"a", "b"}
    proc.process(visit("a", T0 + 2))
    assert set(proc.drain(seal=False, everyone=False).profiles) == {"a"}
    assert set(proc.drain(seal=False, everyone=True).profiles) == {"a", "b"}  # settle
    assert set(proc.drain(seal=True).profiles) == {"a", "b"}
    assert proc.drain(seal=True).profiles == {} and proc.pending == 0


def test_window_survives_a_checkpoint() -> None:
    proc = Processor()
    proc.process(order("a", T0))
    ck = proc.checkpoint()
    restored = Processor()
    restored.restore(ck.users.items(), ck.shared)
    assert restored.pending == 1
    assert set(restored.drain(seal=True).profiles) == {"a"}


def test_simulator_feed_and_driver_route_outputs_to_topics() -> None:
    out: list[Any] = []
    driver = Driver(Processor(), out.append, 1000)
    shop = Shop(SimConfig(users=80, days=20, seed=2, malformed_rate=0.05))
    feed_raw(driver, shop.events())
    driver.drain(seal=False)
    topics = {r[0] for r in out}
    assert topics == {"profiles", "dlq"}
    assert driver.stats.dlq_total == sum(1 for r in out if r[0] == "dlq") > 0
    dlq = next(r for r in out if r[0] == "dlq")
    assert dict(dlq[3])["error_type"] in (b"decode", b"validation")


def test_an_engine_restoring_another_writers_window_publishes_only_the_users_it_holds() -> None:
    """A joining instance restores the shared blob of the instance it takes partitions
    from; that blob's open window names users of every partition the writer held. Before,
    the joiner's window end published a tombstone for each user it did not hold, over the
    live profiles their owner publishes."""
    writer = Processor()
    writer.process(visit("a", T0))
    writer.process(visit("b", T0 + 1))
    ck = writer.checkpoint()
    assert writer.pending > 0  # the window is still open, naming a and b
    joiner = Processor()
    joiner.restore([("a", ck.users["a"])], ck.shared)  # only a's partition moved
    assert set(joiner.drain(seal=True).profiles) == {"a"}


def test_a_checkpoint_inside_a_window_still_stores_what_its_seal_publishes() -> None:
    """A window end sets each built user's published risk (freshness decisions read it).
    Before, the seal did not mark the user changed: a checkpoint taken between the user's
    last event and the seal kept the old value, and a restore after the next checkpoint
    decided refreshes from it (run != replay after a crash)."""
    proc = Processor()
    stored: dict[str, bytes | None] = {}
    for d in range(0, 40, 4):
        proc.process(order("a", T0 + d * DAY, item=f"i{d}"))
        proc.process(visit("b", T0 + d * DAY + 1))
        stored.update(proc.checkpoint().users)  # inside the window: before its seal
        proc.drain(seal=True)
    ck = proc.checkpoint()  # nobody changed since the last one, but the seal did
    stored.update(ck.users)
    assert proc.users["a"].published_risk is not None
    restored = Processor()
    restored.restore(((u, b) for u, b in stored.items() if b is not None), ck.shared)
    for uid in ("a", "b"):
        want, got = proc.users[uid], restored.users[uid]
        assert (got.published_risk, got.published_bucket) == (
            want.published_risk,
            want.published_bucket,
        )
