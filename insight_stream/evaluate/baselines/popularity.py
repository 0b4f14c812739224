"""Global popularity: the items in most orders so far."""

from __future__ import annotations


class Popularity:
    """Best sellers so far (orders containing the item), exact top ``k`` kept
    incrementally because counts only grow.

    >>> pop = Popularity(k=2)
    >>> for items in (["a", "b"], ["b"], ["c"], ["c"], ["c"]):
    ...     pop.learn("u", items, 0)
    >>> pop.recommend("anyone", 2)
    ['c', 'b']
    """

    __slots__ = ("counts", "k", "top")

    def __init__(self, k: int = 10) -> None:
        self.k = k
        self.counts: dict[str, int] = {}
        self.top: list[str] = []

    def learn(self, user: str, items: list[str], ts: int) -> None:
        counts, top = self.counts, self.top
        for item in items:
            c = counts[item] = counts.get(item, 0) + 1
            if item not in top:
                if len(top) < self.k:
                    top.append(item)
                else:
                    worst = top[-1]
                    if (-c, item) >= (-counts[worst], worst):
                        continue
                    top[-1] = item
            top.sort(key=lambda i: (-counts[i], i))

    def recommend(self, user: str, k: int) -> list[str]:
        return self.top[:k]
