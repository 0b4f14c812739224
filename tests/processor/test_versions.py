"""Model versions: taken at event-time day starts, equal for equal models, restore-proof."""

from __future__ import annotations

import zlib
from dataclasses import replace

from insight_stream.events import DlqRecord, decode
from insight_stream.models.profile import DAY_MS
from insight_stream.processor import EngineConfig, Processor
from insight_stream.sim import Shop, SimConfig

# a small shop: churn refits from 50 buyers instead of 200
CONFIG = EngineConfig()
CONFIG = replace(CONFIG, churn=replace(CONFIG.churn, min_users_for_fit=50))


def _proc() -> Processor:
    return Processor(CONFIG)


def _events() -> list:
    shop = Shop(SimConfig(users=150, days=21, seed=3))
    out = [decode(raw, kind) for kind, raw in shop.events()]
    return [e for e in out if not isinstance(e, DlqRecord)]


def _history(proc: Processor, events: list) -> list[tuple[int, dict[str, str]]]:
    """Every version the processor reported, in order, while folding ``events``."""
    seen: list[tuple[int, dict[str, str]]] = []
    for ev in events:
        proc.process(ev)
        if proc.versions is not None and (not seen or seen[-1][0] != proc.versions[0]):
            seen.append(proc.versions)
    return seen


def test_versions_are_taken_at_day_starts_and_follow_the_models() -> None:
    history = _history(_proc(), _events())
    days = [at for at, _ in history]
    assert len(days) >= 20
    assert all(at % DAY_MS == 0 for at in days)  # a day start, whichever event opened it
    assert days == sorted(set(days))
    recs = [v["recs"] for _, v in history]
    churn = [v["churn"] for _, v in history]
    assert len(set(recs)) > len(recs) // 2  # neighbour tables move with the shop's orders
    assert len(set(churn)) > 1  # and refits change the churn population
    stats = _proc().stats()
    assert stats.model_versions == {} and stats.model_versions_at is None


def test_the_same_input_gives_the_same_versions_through_a_restore() -> None:
    events = _events()
    want = _history(_proc(), events)
    cut = len(events) // 2
    first = _proc()
    before = _history(first, events[:cut])
    ck = first.checkpoint()
    restored = _proc()
    restored.restore(ck.users.items(), ck.shared)
    assert restored.versions is None  # derived, not checkpointed: none until the next day
    after = _history(restored, events[cut:])
    assert after[0][0] > before[-1][0]
    assert before + after == want  # nothing reported twice, nothing different


def test_different_models_give_different_versions() -> None:
    events = _events()
    half = [e for e in events if zlib.crc32(e.user_id.encode()) % 2 == 0]  # one of two instances
    one = dict(_history(_proc(), events))
    other = dict(_history(_proc(), half))
    common = sorted(set(one) & set(other))
    assert common
    assert all(one[d]["recs"] != other[d]["recs"] for d in common[5:])
