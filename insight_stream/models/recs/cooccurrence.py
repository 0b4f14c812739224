"""Item-item co-occurrence with bounded candidate lists and popularity-corrected similarity.

Counts are stored in :class:`~insight_stream.models.recs.decay.Inflation` units, so
decay costs nothing per event and similarities (ratios of counts) need no
correction. Each item keeps at most ``max_candidates`` counters: when a new partner
overflows the list, the weakest half is evicted (space-saving style, batched so the
O(m log m) sort is paid once per m/2 inserts). Memory is O(items x max_candidates).
As in space-saving, a partner that enters a pruned list starts from the list's
floor (the largest evicted count), so a frequent partner cannot be evicted again and
again by a crowd of one-off ones; similarities cap a pair count at the smaller item
count, which bounds what that overestimate can do to a rare item. Because new
increments are inflated, a pair that is frequent *now* also overtakes stale ones.
Counts that decayed below ``FORGET`` are dropped when the clock is rebased.
Sorted neighbour lists are built lazily when someone asks, and reused until the
item gained ~10 % new mass.
"""

from __future__ import annotations

import math
import sys

from insight_stream.models.recs.config import SIMILARITIES

_intern = sys.intern
_REFRESH = 1.1  # rebuild a cached neighbour list once its item's mass grew by 10 %
FORGET = 1e-9  # after a rebase a fresh increment weighs 1: this is ~30 half-lives old


class CoOccurrence:
    """Decayed item counts and pair counts, with popularity-corrected neighbours.

    Parameters
    ----------
    max_neighbours
        Length of the sorted neighbour list returned by :meth:`neighbours`.
    max_candidates
        Pair counters kept per item (bounded memory).
    similarity
        ``"cosine"``, ``"jaccard"`` or ``"lift"``.
    shrinkage
        Similarities are multiplied by c / (c + shrinkage), c in real (decayed) counts.

    >>> co = CoOccurrence(max_neighbours=5, max_candidates=10)
    >>> for basket in (["milk", "bread"], ["milk", "bread"], ["milk", "jam"]):
    ...     co.add_basket(basket, 1.0, len(basket))
    >>> [(item, round(s, 2)) for item, s in co.neighbours("milk", 1.0)]
    [('bread', 0.54), ('jam', 0.29)]
    >>> co.n_items, co.coverage()
    (3, 1.0)
    """

    __slots__ = (
        "_cache",
        "counts",
        "floors",
        "max_candidates",
        "max_neighbours",
        "pairs",
        "shrinkage",
        "similarity",
        "total",
    )

    def __init__(
        self,
        max_neighbours: int = 20,
        max_candidates: int = 100,
        similarity: str = "cosine",
        shrinkage: float = 1.0,
    ) -> None:
        if similarity not in SIMILARITIES:
            raise ValueError(f"similarity must be one of {SIMILARITIES}, got {similarity!r}")
        self.max_neighbours = max_neighbours
        self.max_candidates = max(max_candidates, max_neighbours, 2)
        self.similarity = similarity
        self.shrinkage = shrinkage
        self.counts: dict[str, float] = {}  # item -> decayed occurrences (inflated)
        self.pairs: dict[str, dict[str, float]] = {}  # item -> {partner: decayed co-count}
        self.floors: dict[str, float] = {}  # item -> largest count evicted from its list
        self.total = 0.0  # decayed number of occurrences of all items (for lift)
        self._cache: dict[str, tuple[float, list[tuple[str, float]]]] = {}

    @property
    def n_items(self) -> int:
        """Number of items ever seen."""
        return len(self.counts)

    def add_item(self, item: str, w: float) -> None:
        """Count one occurrence of ``item`` with (inflated) weight ``w``."""
        counts = self.counts
        counts[item] = counts.get(item, 0.0) + w
        self.total += w

    def add_pair(self, a: str, b: str, w: float) -> None:
        """Add ``w`` to the co-occurrence of ``a`` and ``b`` (both directions)."""
        self._bump(a, b, w)
        self._bump(b, a, w)

    def add_basket(self, items: list[str], w: float, max_basket: int) -> None:
        """Count each item once and each pair among the first ``max_basket`` items."""
        for item in items:
            self.add_item(item, w)
        paired = items[:max_basket]
        bump = self._bump
        for i, a in enumerate(paired):
            for b in paired[i + 1 :]:
                bump(a, b, w)
                bump(b, a, w)

    def _bump(self, a: str, b: str, w: float) -> None:
        row = self.pairs.get(a)
        if row is None:
            self.pairs[a] = {b: w}
            return
        c = row.get(b)
        if c is not None:
            row[b] = c + w
            return
        row[b] = self.floors.get(a, 0.0) + w
        if len(row) > self.max_candidates:
            self._prune(a, row)

    def _prune(self, item: str, row: dict[str, float]) -> None:
        ranked = sorted(row.items(), key=heaviest_first)
        n_keep = self.max_candidates // 2
        self.pairs[item] = dict(ranked[:n_keep])
        self.floors[item] = max(self.floors.get(item, 0.0), ranked[n_keep][1])

    def neighbours(self, item: str, g_now: float) -> list[tuple[str, float]]:
        """Most similar items to ``item``, best first (ties by id); cached.

        ``g_now`` is the inflation weight at the current time, to turn stored counts
        into real ones for the shrinkage term.
        """
        mass = self.counts.get(item, 0.0)
        hit = self._cache.get(item)
        if hit is not None and mass <= hit[0] * _REFRESH:
            return hit[1]
        row = self.pairs.get(item)
        if not row or mass <= 0.0:
            return []
        counts = self.counts
        shrink = self.shrinkage * g_now
        kind = self.similarity
        scored: list[tuple[str, float]] = []
        for other, c in row.items():
            n_other = counts.get(other, 0.0)
            if n_other <= 0.0 or c <= 0.0:
                continue
            if c > n_other:  # only possible through a floor overestimate or basket x seed pairs
                c = n_other
            if c > mass:
                c = mass
            if kind == "cosine":
                sim = c / (math.sqrt(mass) * math.sqrt(n_other))
            elif kind == "jaccard":
                sim = c / max(mass + n_other - c, c)
            else:
                sim = max(0.0, 1.0 - mass * n_other / (c * self.total)) if self.total > 0 else 0.0
            if shrink > 0.0:
                sim *= c / (c + shrink)
            if sim > 0.0:
                scored.append((other, sim))
        scored.sort(key=heaviest_first)
        result = scored[: self.max_neighbours]
        self._cache[item] = (mass, result)
        return result

    def coverage(self) -> float:
        """Share of known items that appear as a candidate neighbour of some other item."""
        if not self.counts:
            return 0.0
        seen: set[str] = set()
        for row in self.pairs.values():
            seen.update(row)
        return len(seen) / len(self.counts)

    def scale(self, factor: float) -> None:
        """Multiply every stored count by ``factor`` (after an inflation rebase) and forget
        items and pairs whose weight decayed below ``FORGET``."""
        self.counts = {i: c * factor for i, c in self.counts.items() if c * factor >= FORGET}
        counts = self.counts
        pairs: dict[str, dict[str, float]] = {}
        for item, row in self.pairs.items():
            if item in counts:
                kept = {o: c * factor for o, c in row.items() if c * factor >= FORGET}
                if kept:
                    pairs[item] = kept
        self.pairs = pairs
        self.floors = {i: f * factor for i, f in self.floors.items() if i in pairs}
        self.total *= factor
        self._cache.clear()

    def forget_cache(self) -> None:
        """Drop cached neighbour lists (they are rebuilt on demand)."""
        self._cache.clear()

    def __getstate__(self) -> dict[str, object]:
        return {
            "settings": (self.max_neighbours, self.max_candidates, self.similarity, self.shrinkage),
            "counts": self.counts,
            "pairs": self.pairs,
            "floors": self.floors,
            "total": self.total,
        }

    def __setstate__(self, state: dict[str, object]) -> None:
        settings = state["settings"]
        self.max_neighbours, self.max_candidates, self.similarity, self.shrinkage = settings  # type: ignore[misc]
        counts: dict[str, float] = state["counts"]  # type: ignore[assignment]
        pairs: dict[str, dict[str, float]] = state["pairs"]  # type: ignore[assignment]
        # Intern ids again so users restored separately share the same string objects.
        self.counts = {_intern(k): v for k, v in counts.items()}
        self.pairs = {
            _intern(k): {_intern(o): c for o, c in row.items()} for k, row in pairs.items()
        }
        self.floors = {_intern(k): v for k, v in state["floors"].items()}  # type: ignore[attr-defined]
        self.total = state["total"]  # type: ignore[assignment]
        self._cache = {}


def heaviest_first(entry: tuple[str, float]) -> tuple[float, str]:
    """Sort key: largest weight first, ties by item id (deterministic output order)."""
    return -entry[1], entry[0]
