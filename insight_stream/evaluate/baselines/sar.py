"""SAR (Smart Adaptive Recommendations): user affinity x item-item Jaccard.

The item similarity is the Jaccard index over *purchase sets*: ``c_ij`` is the
number of users who bought both i and j, ``c_ii`` the number who bought i, and
``s_ij = c_ij / (c_ii + c_jj - c_ij)``. A user's scores are ``a_u @ S`` with
``a_ui`` the number of the user's orders containing i. ``remove_seen`` leaves out
items the user already bought (the discovery variant). The similarity matrix is
rebuilt with scipy (see :class:`~insight_stream.evaluate.baselines.base.Refresh`;
the affinities are always current).
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from insight_stream.evaluate.baselines.base import Ids, Refresh, csr_rows


class SAR:
    """User-level item-item Jaccard recommendations.

    >>> sar = SAR(remove_seen=True)
    >>> for user, items in [("a", ["x", "y"]), ("b", ["x", "y"]), ("c", ["x", "z"])]:
    ...     sar.learn(user, items, 0)
    >>> sar.learn("d", ["x"], 1)
    >>> sar.recommend("d", 2)
    ['y', 'z']
    """

    __slots__ = ("affinity", "items", "refresh", "remove_seen", "sim", "users")

    def __init__(self, remove_seen: bool = False, refresh_days: float = 1.0) -> None:
        self.remove_seen = remove_seen
        self.items = Ids()
        self.users: dict[str, dict[int, float]] = {}  # user -> item index -> orders
        self.refresh = Refresh(refresh_days)
        self.sim: sparse.csr_matrix | None = None

    def learn(self, user: str, items: list[str], ts: int) -> None:
        row = self.users.setdefault(user, {})
        for item in items:
            i = self.items.get(item)
            row[i] = row.get(i, 0.0) + 1.0
        self.refresh.learnt(ts)

    def _rebuild(self) -> None:
        rows, cols = [], []
        for n, row in enumerate(self.users.values()):
            rows.extend([n] * len(row))
            cols.extend(row)
        x = sparse.csr_matrix(
            (np.ones(len(cols), dtype=np.float32), (rows, cols)),
            shape=(len(self.users), len(self.items)),
        )
        c = (x.T @ x).tocsr()
        d = np.asarray(x.sum(axis=0), dtype=np.float64).ravel()
        c.data = c.data / (d[csr_rows(c)] + d[c.indices] - c.data)
        self.sim = c

    def recommend(self, user: str, k: int) -> list[str]:
        if self.refresh.due():
            self._rebuild()
        row = self.users.get(user)
        if not row or self.sim is None:
            return []
        sim = self.sim
        known = [i for i in row if i < sim.shape[0]]
        if not known:
            return []
        weights = np.array([row[i] for i in known], dtype=np.float64)
        scores = np.asarray(sim[known].T @ weights).ravel()
        if self.remove_seen:
            scores[known] = 0.0
        n = min(k, int(np.count_nonzero(scores > 0)))
        if n == 0:
            return []
        top = np.argpartition(-scores, n - 1)[:n] if n < len(scores) else np.arange(len(scores))
        ranked = sorted(top, key=lambda i: (-scores[i], self.items.names[i]))[:n]
        return [self.items.names[i] for i in ranked]
