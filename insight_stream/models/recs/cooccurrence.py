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

Each item's similarity-sorted neighbour list is rebuilt on *write*, when the item's
own mass has grown by 50 % since the last build (doubled, through views; with
inflation that is every ~0.4 x tau for a steadily bought item, whatever its rate).
Builds are the main cost of learning, so they are one tight loop and one native
sort of the (short) candidate row.
Reads never change state, so outputs depend on the input events only, not on
when someone asked, and a restored checkpoint continues exactly like an
uninterrupted run. Counts that decayed below ``FORGET`` are dropped when the
clock is rebased.
"""

from __future__ import annotations

import heapq
import math
import sys
from array import array

from insight_stream.models.recs.config import SIMILARITIES

_intern = sys.intern
REFRESH = 1.5  # rebuild an item's neighbour list once its mass grew by 50 % (orders)
REFRESH_VIEWS = 2.0  # ... or doubled when the growth comes from views
FORGET = 1e-9  # after a rebase a fresh increment weighs 1: this is ~30 half-lives old

Neighbours = tuple[tuple[str, ...], array]
"""(partner ids, float32 similarities), best first: ~12 bytes per entry."""
_EMPTY: Neighbours = ((), array("f"))


class CoOccurrence:
    """Decayed item counts and pair counts, with popularity-corrected neighbours.

    Parameters
    ----------
    max_neighbours
        Length of the sorted neighbour list kept per item.
    max_candidates
        Pair counters kept per item (bounded memory).
    similarity
        ``"cosine"``, ``"jaccard"`` or ``"lift"``.
    shrinkage
        Similarities are multiplied by c / (c + shrinkage), c in real (decayed) counts.

    >>> co = CoOccurrence(max_neighbours=5, max_candidates=10)
    >>> baskets = (["milk", "bread"], ["milk", "bread"], ["milk", "jam"], ["milk", "bread", "jam"])
    >>> for basket in baskets:
    ...     co.add_basket(basket, 1.0, len(basket))
    >>> [(item, round(s, 2)) for item, s in co.neighbours("milk")]
    [('bread', 0.65), ('jam', 0.47)]
    >>> co.n_items, co.coverage()
    (3, 1.0)
    """

    __slots__ = (
        "built",
        "counts",
        "floors",
        "lists",
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
        max_candidates: int = 50,
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
        self.lists: dict[str, Neighbours] = {}  # item -> sorted neighbours (materialised)
        self.built: dict[str, float] = {}  # item -> its mass when its list was built

    @property
    def n_items(self) -> int:
        """Number of items ever seen."""
        return len(self.counts)

    # -- writes ----------------------------------------------------------------------

    def add_basket(self, items: list[str], g: float, max_basket: int) -> None:
        """Count a basket (weight ``g``, the inflation weight now): each item once and
        each pair among the first ``max_basket`` items; then refresh stale lists.

        ``items`` must be distinct (the hot loop is :meth:`_bump` inlined, ~2x faster).
        """
        counts, pairs, floors = self.counts, self.pairs, self.floors
        for item in items:
            counts[item] = counts.get(item, 0.0) + g
        self.total += g * len(items)
        paired = items[:max_basket]
        cap = self.max_candidates
        for i, a in enumerate(paired):
            row = pairs.get(a)
            if row is None:
                row = pairs[a] = {}
            floor = floors.get(a, 0.0)
            for j, b in enumerate(paired):
                if j == i:
                    continue
                c = row.get(b)
                if c is not None:
                    row[b] = c + g
                    continue
                row[b] = floor + g
                if len(row) > cap:
                    self._prune(a, row)
                    row, floor = pairs[a], floors[a]
        built = self.built
        for item in items:
            if counts[item] > built.get(item, 0.0) * REFRESH:
                self._build(item, g)

    def add_session_item(self, item: str, partners: list[str], w: float, g: float) -> None:
        """Count a viewed item with weight ``w`` and pair it with earlier session items.

        Views are many and each says little, so the item's list is rebuilt from this
        path only once its mass grew by half (``REFRESH_VIEWS``), not by a quarter.
        """
        counts = self.counts
        mass = counts[item] = counts.get(item, 0.0) + w
        self.total += w
        if partners:
            pairs, cap, floors = self.pairs, self.max_candidates, self.floors
            row = pairs.get(item)
            if row is None:
                row = pairs[item] = {}
            for other in partners:
                c = row.get(other)
                if c is not None:
                    row[other] = c + w
                else:
                    row[other] = floors.get(item, 0.0) + w
                    if len(row) > cap:
                        self._prune(item, row)
                        row = pairs[item]
                back = pairs.get(other)  # the other direction (_bump, inlined)
                if back is None:
                    pairs[other] = {item: w}
                    continue
                c = back.get(item)
                if c is not None:
                    back[item] = c + w
                else:
                    back[item] = floors.get(other, 0.0) + w
                    if len(back) > cap:
                        self._prune(other, back)
        if mass > self.built.get(item, 0.0) * REFRESH_VIEWS:
            self._build(item, g)

    def add_pair(self, a: str, b: str, w: float) -> None:
        """Add ``w`` to the co-occurrence of ``a`` and ``b`` (both directions)."""
        self._bump(a, b, w)
        self._bump(b, a, w)

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
        ranked = sorted([(-c, other) for other, c in row.items()])  # native tuple sort: fast
        n_keep = self.max_candidates // 2
        self.pairs[item] = {other: -neg for neg, other in ranked[:n_keep]}
        self.floors[item] = max(self.floors.get(item, 0.0), -ranked[n_keep][0])

    def _build(self, item: str, g: float) -> None:
        """Materialise ``item``'s sorted neighbour list (``g``: inflation weight now, to
        turn stored counts into real ones for the shrinkage term)."""
        mass = self.counts.get(item, 0.0)
        self.built[item] = mass
        row = self.pairs.get(item)
        if not row or mass <= 0.0:
            self.lists.pop(item, None)
            return
        counts_get = self.counts.get
        shrink = self.shrinkage * g
        kind = self.similarity
        if kind == "cosine":  # the default, inlined: builds run on the write path
            inv_root = 1.0 / math.sqrt(mass)
            sqrt = math.sqrt
            scored = []
            append = scored.append
            for other, c in row.items():
                n = counts_get(other, 0.0)
                if n <= 0.0 or c <= 0.0:
                    continue
                if c > n:  # only possible through a floor overestimate or view x order pairs
                    c = n
                if c > mass:
                    c = mass
                append((-c * c / (c + shrink) * inv_root / sqrt(n), other))
        else:
            scored = self._scored(row, mass, shrink, kind)
        scored.sort()  # native tuple order (similarity, then id); rows are short
        top = scored[: self.max_neighbours]
        self.lists[item] = (tuple(o for _, o in top), array("f", [-neg for neg, _ in top]))

    def _scored(
        self, row: dict[str, float], mass: float, shrink: float, kind: str
    ) -> list[tuple[float, str]]:
        """``(-similarity, partner)`` for jaccard and lift (cosine is inlined in _build)."""
        counts_get = self.counts.get
        total = self.total
        scored: list[tuple[float, str]] = []
        for other, c0 in row.items():
            n_other = counts_get(other, 0.0)
            if n_other <= 0.0 or c0 <= 0.0:
                continue
            c = min(c0, n_other, mass)  # a floor overestimate or view x order pairs
            if kind == "jaccard":
                sim = c / max(mass + n_other - c, c)
            else:
                sim = 1.0 - mass * n_other / (c * total)
            if shrink > 0.0:
                sim *= c / (c + shrink)
            if sim > 0.0:
                scored.append((-sim, other))
        return scored

    # -- reads -----------------------------------------------------------------------

    def neighbours(self, item: str) -> list[tuple[str, float]]:
        """The item's most similar items, best first (ties by id), as last built."""
        ids, sims = self.lists.get(item, _EMPTY)
        return list(zip(ids, sims, strict=True))

    def neighbour_arrays(self, item: str) -> Neighbours:
        """Same as :meth:`neighbours` without building tuples (the scoring hot path)."""
        return self.lists.get(item, _EMPTY)

    def coverage(self) -> float:
        """Share of known items that appear as a candidate neighbour of some other item."""
        if not self.counts:
            return 0.0
        seen: set[str] = set()
        for row in self.pairs.values():
            seen.update(row)
        return len(seen) / len(self.counts)

    # -- maintenance -----------------------------------------------------------------

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
        self.built = {i: m * factor for i, m in self.built.items() if i in counts}
        self.lists = {i: nb for i, nb in self.lists.items() if i in counts}
        self.total *= factor

    def __getstate__(self) -> dict[str, object]:
        return {
            "settings": (self.max_neighbours, self.max_candidates, self.similarity, self.shrinkage),
            "counts": self.counts,
            "pairs": self.pairs,
            "floors": self.floors,
            "total": self.total,
            "lists": {i: (ids, sims.tobytes()) for i, (ids, sims) in self.lists.items()},
            "built": self.built,
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
        self.built = {_intern(k): v for k, v in state["built"].items()}  # type: ignore[attr-defined]
        self.lists = {}
        for item, (ids, raw) in state["lists"].items():  # type: ignore[attr-defined]
            sims = array("f")
            sims.frombytes(raw)
            self.lists[_intern(item)] = (tuple(_intern(o) for o in ids), sims)


def heaviest(weights: dict[str, float], n: int) -> list[tuple[str, float]]:
    """The ``n`` largest weights, largest first, ties by item id (deterministic order).

    >>> heaviest({"b": 1.0, "a": 1.0, "c": 3.0}, 2)
    [('c', 3.0), ('a', 1.0)]
    """
    flipped = [(-w, item) for item, w in weights.items()]  # native tuple order: no key calls
    top = heapq.nsmallest(n, flipped) if n < len(flipped) // 4 else sorted(flipped)[:n]
    return [(item, -neg) for neg, item in top]


def top_k(weights: dict[str, float], k: int) -> list[tuple[str, float]]:
    """Same result as :func:`heaviest`, faster: a C sort of the bare weights finds the
    k-th largest, then only the items at or above it are ranked (by weight, then id).

    >>> top_k({"b": 1.0, "a": 1.0, "c": 3.0, "d": 0.5}, 2)
    [('c', 3.0), ('a', 1.0)]
    >>> top_k({"b": 1.0, "a": 2.0}, 5)
    [('a', 2.0), ('b', 1.0)]
    """
    if len(weights) <= k:
        return heaviest(weights, k)
    cut = sorted(weights.values(), reverse=True)[k - 1]
    top = [(-w, item) for item, w in weights.items() if w >= cut]
    top.sort()  # ties at the cut are decided by id, as in heaviest
    return [(item, -neg) for neg, item in top[:k]]
