"""Next-basket baselines: behaviour on tiny shops, read-only recommend, the protocol."""

from __future__ import annotations

import pytest

from insight_stream.evaluate.baselines import (
    SAR,
    TIFUKNN,
    Baseline,
    ItemKNN,
    PersonalFrequency,
    Popularity,
    default_baselines,
)
from insight_stream.evaluate.baselines.tifu_knn import tifu_vector

DAY = 86_400_000


def test_popularity_and_personal_frequency() -> None:
    pop, own = Popularity(k=3), PersonalFrequency()
    for n, items in enumerate([["a", "b"], ["a"], ["c"]]):
        pop.learn("u", items, n)
        own.learn("me" if n < 2 else "you", items, n)
    assert pop.recommend("x", 2) == ["a", "b"]
    assert own.recommend("me", 3) == ["a", "b"] and own.recommend("nobody", 3) == []


def test_sar_uses_purchase_sets_and_can_leave_seen_items_out() -> None:
    sar, unseen = SAR(), SAR(remove_seen=True)
    orders = [("a", ["x", "y"]), ("a", ["x", "y"]), ("b", ["x", "y"]), ("c", ["x", "z"])]
    for user, items in [*orders, ("d", ["x"])]:
        sar.learn(user, items, 0)
        unseen.learn(user, items, 0)
    # user a bought x and y twice: still one user in the Jaccard of (x, y)
    assert unseen.recommend("d", 2) == ["y", "z"]
    assert sar.recommend("d", 1) == ["x"]  # self-similarity 1: its own item first


def test_tifu_vector_decays_old_baskets_and_knn_brings_neighbours_items() -> None:
    v = tifu_vector([[0], [1]], group_size=1, within_decay=0.9, group_decay=0.5)
    assert v[1] > v[0]
    t = TIFUKNN(n_neighbours=1, alpha=0.5)
    t.learn("a", ["milk", "bread"], 0)
    t.learn("b", ["milk", "jam"], DAY)
    t.learn("b", ["milk"], 2 * DAY)
    assert t.recommend("a", 3) == ["milk", "bread", "jam"]


def test_item_knn_scores_from_the_last_session() -> None:
    knn = ItemKNN()
    for items in (["tea", "milk"], ["tea", "milk"], ["coffee", "sugar"]):
        knn.learn("x", items, 0)
    knn.learn("me", ["coffee"], DAY)
    knn.learn("me", ["tea"], 2 * DAY)
    assert knn.recommend("me", 2) == ["tea", "milk"]


@pytest.mark.parametrize("name", sorted(default_baselines()))
def test_recommend_is_read_only_and_follows_the_protocol(name: str) -> None:
    model: Baseline = default_baselines()[name]
    for n, (user, items) in enumerate([("a", ["x", "y"]), ("b", ["x"]), ("a", ["z"])]):
        model.learn(user, items, n * DAY)
    first = model.recommend("a", 3)
    assert first == model.recommend("a", 3)
    assert len(first) <= 3 and len(set(first)) == len(first)
