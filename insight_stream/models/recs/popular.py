"""Decayed item popularity per segment and globally: the cold-start fallback.

Each segment (and the global list, key ``None``) keeps at most ``2 * size`` counters
in :class:`~insight_stream.models.recs.decay.Inflation` units; on overflow the weakest
half is evicted. Sorted top lists are rebuilt lazily, once the segment gained ~5 %
new mass, so a stream of orders does not re-sort on every read.
"""

from __future__ import annotations

import sys

from insight_stream.models.recs.cooccurrence import FORGET, heaviest_first

_intern = sys.intern
_REFRESH = 1.05
_Rows = dict[int | None, dict[str, float]]


class Popularity:
    """Bounded, decayed purchase counts per segment.

    Parameters
    ----------
    size
        Items listed per segment; up to twice as many counters are kept.

    >>> pop = Popularity(size=2)
    >>> for item in ["a", "b", "b", "c", "c", "c"]:
    ...     pop.add(item, 1.0, segment=1)
    >>> pop.top(1, k=2)
    [('c', 1.0), ('b', 0.6666666666666666)]
    >>> pop.top(None, k=1), pop.top(7, k=1)
    ([('c', 1.0)], [])
    """

    __slots__ = ("_cache", "counts", "mass", "size")

    def __init__(self, size: int = 50) -> None:
        self.size = size
        self.counts: dict[int | None, dict[str, float]] = {}
        self.mass: dict[int | None, float] = {}
        self._cache: dict[int | None, tuple[float, list[tuple[str, float]]]] = {}

    def add(self, item: str, w: float, segment: int | None) -> None:
        """Count a purchase of ``item`` in ``segment`` and globally."""
        self._add(item, w, None)
        if segment is not None:
            self._add(item, w, segment)

    def _add(self, item: str, w: float, key: int | None) -> None:
        row = self.counts.get(key)
        if row is None:
            row = self.counts[key] = {}
        row[item] = row.get(item, 0.0) + w
        self.mass[key] = self.mass.get(key, 0.0) + w
        if len(row) > 2 * self.size:
            keep = sorted(row.items(), key=heaviest_first)[: self.size]
            self.counts[key] = dict(keep)

    def top(self, segment: int | None, k: int) -> list[tuple[str, float]]:
        """Up to ``k`` most popular items of ``segment`` (None = global), with their
        popularity relative to the first (1.0), best first, ties by id."""
        mass = self.mass.get(segment, 0.0)
        hit = self._cache.get(segment)
        if hit is None or mass > hit[0] * _REFRESH:
            row = self.counts.get(segment)
            if not row:
                return []
            ranked = sorted(row.items(), key=heaviest_first)[: self.size]
            best = ranked[0][1] or 1.0
            hit = (mass, [(item, c / best) for item, c in ranked])
            self._cache[segment] = hit
        return hit[1][:k]

    def scale(self, factor: float) -> None:
        """Multiply every stored count by ``factor`` (after an inflation rebase); forget
        items whose weight decayed below ``FORGET``."""
        self.counts = {
            key: {i: c * factor for i, c in row.items() if c * factor >= FORGET}
            for key, row in self.counts.items()
        }
        self.mass = {key: m * factor for key, m in self.mass.items()}
        self._cache.clear()

    def __getstate__(self) -> tuple[int, _Rows, dict[int | None, float]]:
        return self.size, self.counts, self.mass

    def __setstate__(self, state: tuple[int, _Rows, dict[int | None, float]]) -> None:
        self.size, counts, self.mass = state
        self.counts = {key: {_intern(i): c for i, c in row.items()} for key, row in counts.items()}
        self._cache = {}
