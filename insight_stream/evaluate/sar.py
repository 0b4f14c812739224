"""SAR-style baseline: user-level item-item Jaccard over purchase sets.

Two items are similar when the same customers bought both, whenever they did
(same basket or months apart): ``J(i, j) = |U_i & U_j| / |U_i | U_j|`` over the
sets of users who bought each. A user's score for an item is the sum of its
similarities to everything they bought; already-bought items are excluded. It is
the natural baseline for complements bought in a *later* order, which basket or
session co-occurrence cannot see.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from itertools import combinations


class UserJaccard:
    """Item-item Jaccard over user purchase sets, fitted in one pass.

    Examples
    --------
    >>> sar = UserJaccard({"u1": {"a", "b"}, "u2": {"a", "b"}, "u3": {"a", "c"}, "u4": {"c"}})
    >>> round(sar.similarity("a", "b"), 3), round(sar.similarity("a", "c"), 3)
    (0.667, 0.25)
    >>> sar.recommend({"a"}, 2)
    ['b', 'c']
    """

    def __init__(self, purchases: dict[str, Iterable[str]]) -> None:
        self.users = Counter[str]()
        self.both: dict[str, Counter[str]] = defaultdict(Counter)
        for items in purchases.values():
            basket = sorted(set(items))
            self.users.update(basket)
            for a, b in combinations(basket, 2):
                self.both[a][b] += 1
                self.both[b][a] += 1

    def similarity(self, a: str, b: str) -> float:
        """Jaccard of the buyers of ``a`` and of ``b``."""
        inter = self.both.get(a, Counter()).get(b, 0)
        union = self.users[a] + self.users[b] - inter
        return inter / union if union else 0.0

    def recommend(self, bought: set[str], k: int = 10) -> list[str]:
        """Top ``k`` items not in ``bought`` by summed similarity (ties: item id)."""
        scores: dict[str, float] = defaultdict(float)
        users = self.users
        for a in bought:
            n_a = users[a]
            for b, inter in self.both.get(a, Counter()).items():
                if b not in bought:
                    scores[b] += inter / (n_a + users[b] - inter)
        ranked = sorted(scores.items(), key=lambda t: (-t[1], t[0]))
        return [i for i, _ in ranked[:k]]


def complement_recovery(
    purchases: dict[str, set[str]],
    complements: Iterable[tuple[str, str]],
    top10: dict[str, list[str]],
) -> tuple[float, int]:
    """Share of users who bought one item of a complementary pair but not yet the other
    whose top 10 holds a missing complement; and how many such users there are.

    >>> complement_recovery({"u1": {"a"}, "u2": {"a", "b"}, "u3": {"c"}},
    ...                     [("a", "b")], {"u1": ["b"], "u3": ["b"]})
    (1.0, 1)
    """
    partner: dict[str, str] = {}
    for a, b in complements:
        partner[a], partner[b] = b, a
    eligible = hits = 0
    for uid, bought in purchases.items():
        missing = {partner[i] for i in bought if i in partner} - bought
        if not missing:
            continue
        eligible += 1
        hits += bool(missing.intersection(top10.get(uid, [])[:10]))
    return (hits / eligible if eligible else 0.0), eligible
