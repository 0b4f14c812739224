"""TIFU-KNN (Hu, He, Gao & Zhang, SIGIR 2020): temporal item frequency + user kNN.

A user's *personalised item frequency* vector is built from their baskets (binary
item vectors), oldest first, split into consecutive groups of ``group_size``
baskets (the first group takes the remainder). Within a group, basket ``j`` of
``m`` weighs ``within_decay ** (m - 1 - j)`` and the group vector is their mean;
group ``g`` of ``G`` weighs ``group_decay ** (G - 1 - g)`` and the user vector is
the mean of the weighted group vectors. The prediction is
``alpha * u + (1 - alpha) * mean of the k nearest users' vectors`` (cosine).
The neighbours' vectors come from a snapshot rebuilt in batch (see
:class:`~insight_stream.evaluate.baselines.base.Refresh`); the user's own vector is
always current.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from insight_stream.evaluate.baselines.base import Ids, Refresh


def tifu_vector(
    baskets: list[list[int]], group_size: int, within_decay: float, group_decay: float
) -> dict[int, float]:
    """The temporal item-frequency vector of one user's baskets (item indices).

    >>> v = tifu_vector([[0], [0, 1], [1]], group_size=2, within_decay=0.5, group_decay=0.5)
    >>> {i: round(w, 4) for i, w in sorted(v.items())}
    {0: 0.375, 1: 0.375}
    """
    n = len(baskets)
    first = n % group_size or group_size
    groups = [baskets[:first]] + [baskets[s : s + group_size] for s in range(first, n, group_size)]
    out: dict[int, float] = {}
    n_groups = len(groups)
    for g, group in enumerate(groups):
        gw = group_decay ** (n_groups - 1 - g) / n_groups
        m = len(group)
        for j, basket in enumerate(group):
            w = gw * within_decay ** (m - 1 - j) / m
            for i in basket:
                out[i] = out.get(i, 0.0) + w
    return out


class TIFUKNN:
    """Next-basket TIFU-KNN, prequential (defaults: the paper's Instacart settings).

    >>> t = TIFUKNN(n_neighbours=1)
    >>> t.learn("a", ["milk", "bread"], 0); t.learn("b", ["milk", "jam"], 0)
    >>> t.learn("a", ["milk"], 1)
    >>> t.recommend("a", 3)
    ['milk', 'bread', 'jam']
    """

    __slots__ = (
        "alpha",
        "baskets",
        "group_decay",
        "group_size",
        "items",
        "k",
        "refresh",
        "snapshot",
        "users",
        "vectors",
        "within_decay",
    )

    def __init__(
        self,
        n_neighbours: int = 300,
        group_size: int = 3,
        within_decay: float = 0.9,
        group_decay: float = 0.7,
        alpha: float = 0.9,
        refresh_days: float = 1.0,
    ) -> None:
        self.k = n_neighbours
        self.group_size = group_size
        self.within_decay = within_decay
        self.group_decay = group_decay
        self.alpha = alpha
        self.items = Ids()
        self.users = Ids()
        self.baskets: dict[str, list[list[int]]] = {}
        self.vectors: dict[str, dict[int, float]] = {}
        self.refresh = Refresh(refresh_days)
        self.snapshot: tuple[sparse.csr_matrix, sparse.csr_matrix] | None = None

    def _vector(self, user: str) -> dict[int, float]:
        return self.vectors.get(user, {})

    def learn(self, user: str, items: list[str], ts: int) -> None:
        self.users.get(user)
        baskets = self.baskets.setdefault(user, [])
        baskets.append([self.items.get(i) for i in items])
        self.vectors[user] = tifu_vector(
            baskets, self.group_size, self.within_decay, self.group_decay
        )
        self.refresh.learnt(ts)

    def _rebuild(self) -> None:
        rows, cols, vals = [], [], []
        for n, user in enumerate(self.users.names):
            for i, w in self._vector(user).items():
                rows.append(n)
                cols.append(i)
                vals.append(w)
        shape = (len(self.users), len(self.items))
        u = sparse.csr_matrix((np.array(vals), (rows, cols)), shape=shape)
        norms = np.sqrt(np.asarray(u.multiply(u).sum(axis=1)).ravel())
        norms[norms == 0.0] = 1.0
        unit = sparse.diags(1.0 / norms) @ u
        self.snapshot = (u.tocsr(), unit.tocsr())

    def recommend(self, user: str, k: int) -> list[str]:
        if self.refresh.due():
            self._rebuild()
        own = self._vector(user)
        if not own:
            return []
        n_items = len(self.items)
        scores = np.zeros(n_items)
        for i, w in own.items():
            scores[i] = self.alpha * w
        if self.snapshot is not None and self.alpha < 1.0:
            u, unit = self.snapshot
            q = np.zeros(u.shape[1])
            for i, w in own.items():
                if i < len(q):
                    q[i] = w
            sims = unit @ q
            me = self.users.index.get(user)
            if me is not None and me < len(sims):
                sims[me] = -np.inf  # not one's own neighbour
            n = min(self.k, int(np.count_nonzero(sims > 0)))
            if n > 0:
                nearest = np.argpartition(-sims, n - 1)[:n]
                mean = np.asarray(u[nearest].sum(axis=0)).ravel() / n
                scores[: len(mean)] += (1.0 - self.alpha) * mean
        n = min(k, int(np.count_nonzero(scores > 0)))
        if n == 0:
            return []
        top = np.argpartition(-scores, n - 1)[:n] if n < n_items else np.arange(n_items)
        names = self.items.names
        return [names[i] for i in sorted(top.tolist(), key=lambda i: (-scores[i], names[i]))]
