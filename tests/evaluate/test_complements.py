"""The later-order complement check: generator properties and the recovery metric."""

from __future__ import annotations

from insight_stream.evaluate.complements import ComplementWorld, evaluate_complements


def test_world_buys_complements_later_and_never_twice() -> None:
    world = ComplementWorld(users=60, days=40, seed=3)
    first: dict[tuple[str, str], int] = {}
    owned: dict[str, set[str]] = {}
    for ev in world.events():
        have = owned.setdefault(ev.user_id, set())
        for line in ev.lines:
            assert line.item_id not in have  # a discovery shop
            have.add(line.item_id)
            first[(ev.user_id, line.item_id)] = ev.ts
    gaps = [
        (first[(u, "b" + i[1:])] - ts) / 86_400_000
        for (u, i), ts in first.items()
        if i.startswith("a") and (u, "b" + i[1:]) in first
    ]
    assert gaps and all(1.0 <= g <= 10.0 for g in gaps)


def test_engine_recovers_later_complements_better_than_sar() -> None:
    res = evaluate_complements(ComplementWorld(users=300, days=60, seed=2))
    m, base = res["metrics"], res["baselines"]
    assert res["n_cases"] > 200
    assert m["complement_recovery"] >= 1.2 * base["sar"]["complement_recovery"]
    assert base["sar"]["complement_recovery"] > base["popularity"]["complement_recovery"]
    assert m["repeat_slot_share"] < 0.3  # nothing is bought twice: mostly new items
    # Asked once at the end, of everyone holding A and not B, however long ago.
    assert res["n_final_cases"] > 50
    assert m["final_complement_recovery"] > base["popularity"]["final_complement_recovery"]
    assert m["final_complement_recovery"] >= 0.9 * base["sar"]["final_complement_recovery"]
