"""Session item-kNN: items that share sessions with the user's last session's items.

Each learnt order is one session (the harness feeds orders; in a click stream a
session would be the browsing that led to it). ``sim(i, j)`` is the cosine over
sessions, ``c_ij / sqrt(c_i c_j)``; a user's scores are the sums of ``sim(i, j)``
over the items ``i`` of their latest session (Ludewig & Jannach's item-kNN for
session-based recommendation, with the whole last session as context). The
similarity is rebuilt with scipy (see
:class:`~insight_stream.evaluate.baselines.base.Refresh`).
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from insight_stream.evaluate.baselines.base import Ids, Refresh, csr_rows


class ItemKNN:
    """Cosine item-kNN over sessions, scored from the user's last session.

    >>> knn = ItemKNN()
    >>> for items in (["tea", "milk"], ["tea", "milk"], ["tea", "cake"]):
    ...     knn.learn("x", items, 0)
    >>> knn.learn("me", ["tea"], 1)
    >>> knn.recommend("me", 3)
    ['tea', 'milk', 'cake']
    """

    __slots__ = ("cols", "items", "last", "refresh", "rows", "sim")

    def __init__(self, refresh_days: float = 1.0) -> None:
        self.items = Ids()
        self.rows: list[int] = []
        self.cols: list[int] = []
        self.last: dict[str, list[int]] = {}
        self.refresh = Refresh(refresh_days)
        self.sim: sparse.csr_matrix | None = None

    def learn(self, user: str, items: list[str], ts: int) -> None:
        session = self.rows[-1] + 1 if self.rows else 0
        ids = [self.items.get(i) for i in items]
        self.rows.extend([session] * len(ids))
        self.cols.extend(ids)
        self.last[user] = ids
        self.refresh.learnt(ts)

    def _rebuild(self) -> None:
        n_sessions = (self.rows[-1] + 1) if self.rows else 0
        x = sparse.csr_matrix(
            (np.ones(len(self.cols), dtype=np.float32), (self.rows, self.cols)),
            shape=(n_sessions, len(self.items)),
        )
        c = (x.T @ x).tocsr()
        d = np.asarray(x.sum(axis=0), dtype=np.float64).ravel()
        c.data = c.data / np.sqrt(d[csr_rows(c)] * d[c.indices])
        self.sim = c

    def recommend(self, user: str, k: int) -> list[str]:
        if self.refresh.due():
            self._rebuild()
        last = self.last.get(user)
        sim = self.sim
        if not last or sim is None:
            return []
        known = [i for i in last if i < sim.shape[0]]
        if not known:
            return []
        scores = np.asarray(sim[known].sum(axis=0)).ravel()
        n = min(k, int(np.count_nonzero(scores > 0)))
        if n == 0:
            return []
        top = np.argpartition(-scores, n - 1)[:n] if n < len(scores) else np.arange(len(scores))
        names = self.items.names
        return [names[i] for i in sorted(top.tolist(), key=lambda i: (-scores[i], names[i]))]
