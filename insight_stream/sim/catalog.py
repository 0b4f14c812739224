"""The simulated product catalog: categories, price tiers, Zipf popularity and complements.

Items are bucketed by (category, price tier) with cumulative popularity
weights, so picking an item for a customer's taste and price level is two
``bisect`` calls on precomputed tables, no per-event allocation.
"""

from __future__ import annotations

import random
from bisect import bisect
from itertools import accumulate

CATEGORIES: tuple[tuple[str, float], ...] = (
    ("electronics", 110.0),
    ("fashion", 45.0),
    ("home", 60.0),
    ("books", 18.0),
    ("beauty", 25.0),
    ("sports", 55.0),
    ("toys", 30.0),
    ("grocery", 15.0),
    ("garden", 40.0),
    ("pets", 22.0),
    ("health", 24.0),
    ("office", 20.0),
    ("music", 30.0),
    ("games", 50.0),
    ("jewelry", 95.0),
    ("automotive", 70.0),
    ("kitchen", 35.0),
    ("baby", 28.0),
    ("outdoor", 65.0),
    ("crafts", 18.0),
)
"""Category names and their base (mid-tier) price."""

TIERS: tuple[str, ...] = ("budget", "mid", "premium")
TIER_PRICE: tuple[float, ...] = (0.4, 1.0, 2.8)
"""Price multiplier of each tier over the category base price."""
_TIER_SHARE = (0.4, 0.4, 0.2)
COMPLEMENT_SHARE = 0.16
"""Share of items that belong to a complementary pair."""
CATALOGUES: dict[str, dict[str, float]] = {
    "general": {"zipf": 0.9, "staples": 1.0, "rebuy": 1.0, "returns": 1.0},
    "grocery": {"zipf": 1.1, "staples": 2.5, "rebuy": 1.8, "returns": 0.3},
    "fashion": {"zipf": 0.6, "staples": 0.2, "rebuy": 0.3, "returns": 1.6},
}
"""Catalogue kind -> Zipf exponent and multipliers of the types' staples, rebuy and
return means: groceries are rebought, fashion is discovered (and sent back)."""


class Catalog:
    """Items with category, tier, price and popularity; complementary pairs.

    Parameters
    ----------
    n_items
        Number of items (ids ``i0000`` ...).
    n_categories
        Number of categories, taken from :data:`CATEGORIES` in order.
    rng
        Source of randomness (the catalog is part of the seeded world).
    zipf
        Exponent of the Zipf popularity: higher concentrates sales on a few best
        sellers (groceries), lower spreads them (fashion: discovery).

    Examples
    --------
    >>> cat = Catalog(200, 8, random.Random(1))
    >>> len(cat.item_ids), len(cat.categories)
    (200, 8)
    >>> a, b = cat.pairs[0]
    >>> cat.complement[a] == b and cat.complement[b] == a
    True
    >>> i = cat.pick(0, 2, random.Random(3).random())
    >>> cat.item_cat[i], cat.item_tier[i]
    (0, 2)
    """

    def __init__(
        self, n_items: int, n_categories: int, rng: random.Random, zipf: float = 0.9
    ) -> None:
        self.categories: list[str] = [c for c, _ in CATEGORIES[:n_categories]]
        base = [p for _, p in CATEGORIES[:n_categories]]
        width = len(str(n_items - 1))
        self.item_ids: list[str] = [f"i{i:0{max(4, width)}d}" for i in range(n_items)]
        # Category sizes follow a mild Zipf; every (category, tier) bucket gets one item first.
        cat_w = [1.0 / (r + 1) ** 0.6 for r in range(n_categories)]
        rng.shuffle(cat_w)
        self.category_weight: list[float] = cat_w
        slots = [(c, t) for c in range(n_categories) for t in range(len(TIERS))]
        cum_cat = list(accumulate(cat_w))
        cum_tier = list(accumulate(_TIER_SHARE))
        while len(slots) < n_items:
            c = bisect(cum_cat, rng.random() * cum_cat[-1])
            slots.append((c, bisect(cum_tier, rng.random() * cum_tier[-1])))
        rng.shuffle(slots)
        self.item_cat: list[int] = [c for c, _ in slots]
        self.item_tier: list[int] = [t for _, t in slots]
        self.item_price: list[float] = [
            max(0.99, round(base[c] * TIER_PRICE[t] * rng.lognormvariate(0.0, 0.15), 0) - 0.01)
            for c, t in slots
        ]
        # Zipf popularity over a random rank order.
        ranks = list(range(n_items))
        rng.shuffle(ranks)
        self.popularity: list[float] = [1.0 / (r + 1) ** zipf for r in ranks]
        self._buckets: dict[tuple[int, int], tuple[list[int], list[float]]] = {}
        for c in range(n_categories):
            for t in range(len(TIERS)):
                members = [i for i in range(n_items) if slots[i] == (c, t)]
                members.sort(key=lambda i: -self.popularity[i])
                cum = list(accumulate(self.popularity[i] for i in members))
                self._buckets[(c, t)] = (members, cum)
        self.bucket_table: list[list[tuple[list[int], list[float]]]] = [
            [self._buckets[(c, t)] for t in range(len(TIERS))] for c in range(n_categories)
        ]
        self.complement: dict[int, int] = {}
        self.pairs: list[tuple[int, int]] = self._pair_complements(rng)

    def _pair_complements(self, rng: random.Random) -> list[tuple[int, int]]:
        """Pair items of the more popular half, mostly within a category, disjointly."""
        n = len(self.item_ids)
        by_pop = sorted(range(n), key=lambda i: -self.popularity[i])[: max(4, n // 2)]
        wanted = max(2, int(n * COMPLEMENT_SHARE) // 2)
        rng.shuffle(by_pop)
        free = set(by_pop)
        pairs: list[tuple[int, int]] = []
        for a in by_pop:
            if len(pairs) >= wanted:
                break
            if a not in free:
                continue
            same = [
                b for b in by_pop if b in free and b != a and self.item_cat[b] == self.item_cat[a]
            ]
            other = [b for b in by_pop if b in free and b != a]
            pool = same if same and rng.random() < 0.7 else other
            if not pool:
                continue
            b = pool[int(rng.random() * len(pool))]
            free.discard(a)
            free.discard(b)
            pairs.append((a, b))
            self.complement[a] = b
            self.complement[b] = a
        return pairs

    def pick(self, category: int, tier: int, u: float) -> int:
        """Item index in ``(category, tier)`` for a uniform draw ``u`` (popularity-weighted)."""
        members, cum = self.bucket_table[category][tier]
        return members[bisect(cum, u * cum[-1])]

    def price_of(self, item: int) -> float:
        """List price of an item."""
        return self.item_price[item]
