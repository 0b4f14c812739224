"""k chosen by silhouette, stable ids across k changes, quality, adaptive warm-up."""

import pickle
import random

from test_segmenter import ARCHETYPES, make_profile

from insight_stream.models.profile import ProfileState
from insight_stream.models.segments import SegmentConfig, Segmenter

DAY = 86_400_000
BIG = (3, 6, 4, 30, 12, 3600.0, 0, 400.0)  # a fourth kind: rare, huge, premium orders


def profile(kind: str, rng: random.Random) -> ProfileState:
    if kind != "big":
        return make_profile(kind, rng)
    saved = ARCHETYPES.get("big")
    ARCHETYPES["big"] = BIG
    try:
        return make_profile("big", rng)
    finally:
        if saved is None:
            del ARCHETYPES["big"]


def population(kinds: list[str], n: int, seed: int) -> list[tuple[str, ProfileState]]:
    rng = random.Random(seed)
    return [(kinds[i % len(kinds)], profile(kinds[i % len(kinds)], rng)) for i in range(n)]


def auto(**kw) -> Segmenter:
    return Segmenter(SegmentConfig(warmup_users=60, k_range=(2, 6), refit_every_days=7, **kw))


def warmed(seg: Segmenter, kinds: list[str]) -> Segmenter:
    for i, (_, p) in enumerate(population(kinds, 60, 1)):
        seg.learn(f"w{i}", p, 0)
    assert seg.status == "ready"
    return seg


def ids_by_kind(seg: Segmenter, kinds: list[str]) -> dict[str, set[int]]:
    out: dict[str, set[int]] = {}
    for kind, p in population(kinds, 200, 9):
        out.setdefault(kind, set()).add(seg.predict(p))
    return out


def test_k_follows_the_data_and_persisting_segments_keep_their_ids():
    three = ["bargain", "loyal", "window"]
    seg = warmed(auto(), three)
    assert seg.quality["k"] == 3
    before = ids_by_kind(seg, three)
    assert all(len(v) == 1 for v in before.values())
    # a new kind of customer appears: one new segment, the others keep their ids
    seg.refit([p for _, p in population([*three, "big"], 1200, 2)], 8 * DAY)
    assert seg.quality["k"] == 4
    after = ids_by_kind(seg, [*three, "big"])
    assert {k: after[k] for k in three} == before
    assert after["big"] == {3} and seg.next_id == 4
    change = seg.id_changes[-1]
    assert (change["k_before"], change["k_after"], change["new"], change["retired"]) == (
        3,
        4,
        [3],
        [],
    )
    # window shoppers vanish: their id is retired, nobody else's changes
    two_plus_big = ["bargain", "loyal", "big"]
    seg.refit([p for _, p in population(two_plus_big, 1200, 3)], 16 * DAY)
    assert seg.quality["k"] == 3
    assert seg.id_changes[-1]["retired"] == sorted(before["window"])
    final = ids_by_kind(seg, two_plus_big)
    assert final == {k: after[k] for k in two_plus_big}


def test_quality_is_exposed_and_fixed_k_never_changes():
    seg = warmed(auto(), ["bargain", "loyal", "window"])
    q = seg.quality
    assert q["status"] == "ready" and 0.5 < q["silhouette"] <= 1.0
    assert 0 < q["davies_bouldin"] < 1.0
    assert set(q["k_scores"]) == {2, 3, 4, 5, 6} and q["refit_seconds"] >= 0
    fixed = Segmenter(SegmentConfig(k=3, warmup_users=60, refit_every_days=7))
    warmed(fixed, ["bargain", "loyal", "window"])
    fixed.refit([p for _, p in population(["bargain", "loyal", "window", "big"], 800, 2)], DAY)
    assert fixed.quality["k"] == 3 and fixed.quality["k_scores"] == {}


def test_pickle_keeps_non_contiguous_ids():
    three = ["bargain", "loyal", "window"]
    seg = warmed(auto(), three)
    seg.refit([p for _, p in population([*three, "big"], 1200, 2)], 8 * DAY)
    seg.refit([p for _, p in population(["bargain", "loyal", "big"], 1200, 3)], 16 * DAY)
    clone = pickle.loads(pickle.dumps(seg))
    probe = [p for _, p in population(["bargain", "loyal", "big"], 60, 4)]
    assert sorted(clone.km.centers) == sorted(seg.km.centers) != [0, 1, 2]
    assert [clone.predict(p) for p in probe] == [seg.predict(p) for p in probe]


def test_warm_up_adapts_to_a_small_shop():
    """300 customers of whom 40 come back 3+ times: 200 mature users never arrive, so
    after two weeks of event time a share of the users seen (>= 30) is enough."""
    seg = Segmenter()
    rng = random.Random(3)
    kinds = sorted(ARCHETYPES)
    for i in range(300):
        p = make_profile(kinds[i % 3], rng)
        p.sessions = 3 if i < 40 else 1
        seg.learn(f"u{i}", p, i * 60_000)  # all within the first day
    assert seg.status == "warming_up" and seg.predict(p) is None
    assert seg.warmup_progress() == {"mature_users": 40, "seen_users": 300, "target": 200}
    late = make_profile("loyal", rng)
    late.sessions = 3
    seg.learn("late", late, 15 * DAY)
    assert seg.status == "ready" and seg.quality["status"] == "ready"
    assert seg.predict(late) is not None
