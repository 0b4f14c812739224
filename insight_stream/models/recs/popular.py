"""Decayed item popularity per segment and globally: the cold-start fallback.

Each segment (and the global list, key ``None``) keeps at most ``2 * size`` counters
in :class:`~insight_stream.models.recs.decay.Inflation` units; on overflow the weakest
half is evicted. The sorted top list of a segment is rebuilt on *write*, once the
segment gained 10 % new mass, so orders do not re-sort on every read and reads never
change the model (outputs depend on the input events only; :meth:`Popularity.blend`
memoises a derived dict, dropped whenever a top list is rebuilt and never pickled).
"""

from __future__ import annotations

import sys

from insight_stream.models.recs.cooccurrence import FORGET, heaviest

_intern = sys.intern
REFRESH = 1.1
_Key = int | str | None  # segment id, category name, or None (global)
_Rows = dict[_Key, dict[str, float]]
_Tops = dict[_Key, list[tuple[str, float]]]


class Popularity:
    """Bounded, decayed purchase counts per segment.

    Parameters
    ----------
    size
        Items listed per segment; up to twice as many counters are kept.

    >>> pop = Popularity(size=2)
    >>> for item in ["a", "b", "b", "c", "c", "c"]:
    ...     pop.add([item], 1.0, segment=1)
    >>> pop.top(1, k=2)
    [('c', 1.0), ('b', 0.6666666666666666)]
    >>> pop.top(None, k=1), pop.top(7, k=1)
    ([('c', 1.0)], [])
    >>> pop.shares[1]
    {'c': 1.0, 'b': 0.6666666666666666}
    """

    __slots__ = ("_blends", "built", "counts", "mass", "shares", "size", "tops")

    def __init__(self, size: int = 50) -> None:
        self.size = size
        self.counts: _Rows = {}
        self.mass: dict[_Key, float] = {}
        self.tops: _Tops = {}  # segment -> [(item, share of the first)], materialised
        self.shares: dict[_Key, dict[str, float]] = {}  # the same, as {item: share}, ranked
        self._blends: dict[tuple[_Key, float], dict[str, float]] = {}  # memo of blend()
        self.built: dict[_Key, float] = {}  # segment -> its mass when its top was built

    def add(self, items: list[str], w: float, segment: int | None) -> None:
        """Count a purchase of each of ``items`` in ``segment`` and globally."""
        self.add_to(None, items, w)
        if segment is not None:
            self.add_to(segment, items, w)

    def add_to(self, key: _Key, items: list[str], w: float) -> None:
        """Count ``items`` under ``key`` only (e.g. a category)."""
        row = self.counts.get(key)
        if row is None:
            row = self.counts[key] = {}
        for item in items:
            row[item] = row.get(item, 0.0) + w
        if len(row) > 2 * self.size:
            row = self.counts[key] = dict(heaviest(row, self.size))
        mass = self.mass[key] = self.mass.get(key, 0.0) + w * len(items)
        if mass > self.built.get(key, 0.0) * REFRESH:
            self.built[key] = mass
            ranked = heaviest(row, self.size)
            best = ranked[0][1] or 1.0
            top = self.tops[key] = [(item, c / best) for item, c in ranked]
            self.shares[key] = dict(top)
            self._blends.clear()

    def blend(self, segment: int | None, weight: float) -> dict[str, float]:
        """``{item: weight x share}`` over the segment's top items plus half of that over
        the global ones (the global ones at the full weight when the segment has none).

        The same dict is returned until a top list changes (memoised; do not mutate).

        >>> pop = Popularity(size=3)
        >>> pop.add(["a", "a", "b"], 1.0, segment=1)
        >>> pop.add(["c"], 1.0, segment=None)
        >>> pop.blend(1, 1.0)
        {'a': 1.5, 'b': 0.75, 'c': 0.25}
        >>> pop.blend(None, 1.0) == pop.blend(9, 1.0) == {'a': 1.0, 'b': 0.5, 'c': 0.5}
        True
        """
        key = (segment, weight)
        memo = self._blends.get(key)
        if memo is not None:
            return memo
        out: dict[str, float] = {}
        seg = self.shares.get(segment) if segment is not None else None
        if seg:
            for item, share in seg.items():
                out[item] = weight * share
            weight *= 0.5
        for item, share in self.shares.get(None, {}).items():
            out[item] = out.get(item, 0.0) + weight * share
        self._blends[key] = out
        return out

    def top(self, segment: _Key, k: int) -> list[tuple[str, float]]:
        """Up to ``k`` most popular items of ``segment`` (None = global), with their
        popularity relative to the first (1.0), best first, ties by id."""
        return self.tops.get(segment, [])[:k]

    def scale(self, factor: float) -> None:
        """Multiply every stored count by ``factor`` (after an inflation rebase); forget
        items whose weight decayed below ``FORGET``. Top lists hold ratios: unchanged."""
        self.counts = {
            key: {i: c * factor for i, c in row.items() if c * factor >= FORGET}
            for key, row in self.counts.items()
        }
        self.mass = {key: m * factor for key, m in self.mass.items()}
        self.built = {key: m * factor for key, m in self.built.items()}

    def __getstate__(self) -> tuple[int, _Rows, dict[_Key, float], _Tops, dict]:
        return self.size, self.counts, self.mass, self.tops, self.built

    def __setstate__(self, state: tuple[int, _Rows, dict[_Key, float], _Tops, dict]) -> None:
        self.size, counts, self.mass, tops, self.built = state
        self.counts = {key: {_intern(i): c for i, c in row.items()} for key, row in counts.items()}
        self.tops = {key: [(_intern(i), s) for i, s in top] for key, top in tops.items()}
        self.shares = {key: dict(top) for key, top in self.tops.items()}
        self._blends = {}
