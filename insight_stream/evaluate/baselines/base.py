"""The protocol every next-basket baseline follows: score, then learn, in event time."""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from typing import Protocol

import numpy as np
from scipy import sparse


class Baseline(Protocol):
    """A next-basket recommender the harness can run next to the engine.

    ``learn`` folds one placed order (distinct item ids, event time in ms);
    ``recommend`` returns up to ``k`` item ids for the user, best first, and must not
    change state.
    """

    def learn(self, user: str, items: list[str], ts: int) -> None: ...

    def recommend(self, user: str, k: int) -> list[str]: ...


def top_items(scores: dict[str, float], k: int, exclude: Iterable[str] = ()) -> list[str]:
    """The ``k`` highest-scoring items (ties by id), leaving out ``exclude``.

    >>> top_items({"a": 1.0, "b": 2.0, "c": 2.0, "d": 0.5}, 2)
    ['b', 'c']
    >>> top_items({"a": 1.0, "b": 2.0}, 5, exclude={"b"})
    ['a']
    """
    skip = set(exclude)
    pool = [(-s, i) for i, s in scores.items() if i not in skip and s > 0.0]
    return [i for _, i in heapq.nsmallest(k, pool)]


DAY_MS = 86_400_000


class Ids:
    """Dense integer ids for strings, in order of first appearance.

    >>> ids = Ids()
    >>> ids.get("b"), ids.get("a"), ids.get("b"), ids.names
    (0, 1, 0, ['b', 'a'])
    """

    __slots__ = ("index", "names")

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.names: list[str] = []

    def get(self, name: str) -> int:
        i = self.index.get(name)
        if i is None:
            i = self.index[name] = len(self.names)
            self.names.append(name)
        return i

    def __len__(self) -> int:
        return len(self.names)


class Refresh:
    """Event-time trigger for models rebuilt in batch: at most once per ``days`` of
    event time, and only once ``growth`` (a share) more orders were learnt since the
    last build, so the cost stays ~O(log n) builds, not one per day.

    >>> r = Refresh(days=1.0, growth=0.5)
    >>> r.learnt(0); r.due(), r.due()
    (True, False)
    >>> r.learnt(DAY_MS); r.due()
    True
    >>> r.learnt(2 * DAY_MS); r.due()  # 3 orders learnt, 2 at the last build: +50 %
    True
    """

    __slots__ = ("built_at", "built_n", "growth", "n", "now", "period")

    def __init__(self, days: float = 1.0, growth: float = 0.02) -> None:
        self.period = days * DAY_MS
        self.growth = growth
        self.now = 0
        self.n = self.built_n = 0
        self.built_at: float | None = None

    def learnt(self, ts: int) -> None:
        self.now = max(self.now, ts)
        self.n += 1

    def due(self) -> bool:
        if self.n == self.built_n:
            return False
        if self.built_at is not None and (
            self.now - self.built_at < self.period or self.n < self.built_n * (1 + self.growth)
        ):
            return False
        self.built_at, self.built_n = self.now, self.n
        return True


def csr_rows(m: sparse.csr_matrix) -> np.ndarray:
    """Row index of every stored entry of a CSR matrix (its COO rows, without a copy
    of the matrix)."""
    return np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))
