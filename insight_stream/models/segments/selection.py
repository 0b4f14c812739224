"""Choosing the number of segments and keeping ids stable when it changes.

* :func:`silhouette` and :func:`davies_bouldin`: cluster quality on a sample, in
  numpy (one n x n distance matrix; ``n`` is bounded by the caller's sample size).
* :func:`choose_k`: k-means++ and Lloyd passes for every k of a range on a sample,
  scored by silhouette; the best k wins.
* :func:`match_ids`: which new clusters are old ones that persisted (Hungarian
  matching on membership overlap) and which are splits or merges (new ids).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

from insight_stream.models.segments.seeding import assign, kmeans_pp, lloyd

PERSIST_SHARE = 0.6
"""A new cluster keeps an old id only when at least this share of its members were that
old cluster's members (and they are >= ``PERSIST_SHARE / 2`` of the old cluster)."""


def _distances(x: np.ndarray) -> np.ndarray:
    sq = (x * x).sum(axis=1)
    d2 = sq[:, None] + sq[None, :] - 2.0 * (x @ x.T)
    np.maximum(d2, 0.0, out=d2)
    return np.sqrt(d2)


def silhouette(x: np.ndarray, labels: np.ndarray, d: np.ndarray | None = None) -> float:
    """Mean silhouette coefficient of ``labels`` on ``x`` (``d``: precomputed distances).

    >>> pts = np.array([[0.0], [0.1], [5.0], [5.1]])
    >>> round(silhouette(pts, np.array([0, 0, 1, 1])), 2)
    0.98
    >>> silhouette(pts, np.array([0, 0, 0, 0]))
    0.0
    """
    ids, inv = np.unique(labels, return_inverse=True)
    if len(ids) < 2:
        return 0.0
    d = _distances(x) if d is None else d
    onehot = np.zeros((len(x), len(ids)))
    onehot[np.arange(len(x)), inv] = 1.0
    sizes = onehot.sum(axis=0)
    sums = d @ onehot  # n x k: total distance to each cluster
    own = sizes[inv]
    a = sums[np.arange(len(x)), inv] / np.maximum(own - 1.0, 1.0)
    other = sums / sizes
    other[np.arange(len(x)), inv] = np.inf
    b = other.min(axis=1)
    s = np.where(own > 1, (b - a) / np.maximum(np.maximum(a, b), 1e-12), 0.0)
    return float(s.mean())


def davies_bouldin(x: np.ndarray, labels: np.ndarray) -> float:
    """Davies-Bouldin index (lower is better; 0 for one cluster).

    >>> pts = np.array([[0.0], [0.2], [5.0], [5.2]])
    >>> round(davies_bouldin(pts, np.array([0, 0, 1, 1])), 3)
    0.04
    """
    ids = np.unique(labels)
    if len(ids) < 2:
        return 0.0
    centres = np.array([x[labels == i].mean(axis=0) for i in ids])
    scatter = np.array(
        [
            np.sqrt(((x[labels == i] - c) ** 2).sum(axis=1)).mean()
            for i, c in zip(ids, centres, strict=True)
        ]
    )
    sep = np.sqrt(((centres[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2))
    np.fill_diagonal(sep, np.inf)
    ratio = (scatter[:, None] + scatter[None, :]) / sep
    return float(ratio.max(axis=1).mean())


def sample_rows(z: np.ndarray, n: int, seed: int) -> np.ndarray:
    """A deterministic sample of at most ``n`` rows."""
    if len(z) <= n:
        return z
    return z[np.random.default_rng(seed).choice(len(z), n, replace=False)]


def choose_k(
    z: np.ndarray,
    ks: range,
    seed: int,
    sample: int = 1500,
    tolerance: float = 0.0,
    iters: int = 15,
    tries: int = 3,
) -> tuple[int, np.ndarray, dict[int, float]]:
    """The k of ``ks`` with the best silhouette on a sample of ``z``, or the largest k
    within ``tolerance`` of the best (silhouette favours few clusters when types
    differ in spread: a small tolerance recovers the finer, still well-separated k).

    Returns ``(k, centres fitted on the sample, {k: silhouette})``.

    >>> rng = np.random.default_rng(0)
    >>> blobs = np.vstack([rng.normal(c, 0.2, size=(60, 2)) for c in (0, 3, 6, 9)])
    >>> k, centres, scores = choose_k(blobs, range(2, 8), seed=1)
    >>> k, centres.shape
    (4, (4, 2))
    """
    x = sample_rows(z, sample, seed)
    d = _distances(x)
    scores: dict[int, float] = {}
    fits: dict[int, np.ndarray] = {}
    for k in ks:
        if k < 2 or k >= len(x):
            continue
        centres = kmeans_pp(x, k, seed, iters, tries)
        labels, _ = assign(x, centres)
        fits[k] = centres
        scores[k] = silhouette(x, labels, d)
    if not scores:
        k = max(1, min(ks.start, len(x)))
        return k, kmeans_pp(x, k, seed, iters, tries), {}
    top = max(scores.values())
    best = max(k for k, s in scores.items() if s >= top - tolerance)
    return best, fits[best], scores


def match_ids(
    z: np.ndarray,
    old: dict[int, np.ndarray],
    new: np.ndarray,
    next_id: int,
    persist: float = PERSIST_SHARE,
) -> tuple[dict[int, np.ndarray], dict[int, int], int]:
    """Give the rows of ``new`` ids: an old id where that cluster persisted, else a fresh one.

    Old and new centres are paired by the Hungarian assignment on squared centre
    distance; a pair keeps the old id when the new centre stayed where the old one
    was (closer than the new cluster's RMS radius), the new cluster is mostly made of
    the old one's members (share >= ``persist``, members being the rows of ``z``
    nearest each centre) and holds a fair part of them (>= ``persist / 2``). So a
    cluster that splits symmetrically, or merges, gives new ids ``next_id``,
    ``next_id + 1``...; one that stays put while a new group breaks away keeps its id.

    Returns ``(centres by id, {new row: id}, next free id)``.

    >>> z = np.array([[0.0], [0.1], [5.0], [5.1], [9.0], [9.1]])
    >>> old = {3: np.array([0.05]), 7: np.array([7.0])}
    >>> new = np.array([[9.05], [0.05], [5.05]])
    >>> centres, ids, nxt = match_ids(z, old, new, next_id=8)
    >>> ids, nxt
    ({0: 8, 1: 3, 2: 9}, 10)
    """
    old_ids = list(old)
    old_c = np.array([old[i] for i in old_ids])
    lab_old, _ = assign(z, old_c)
    lab_new, d2_new = assign(z, new)
    counts = np.maximum(np.bincount(lab_new, minlength=len(new)), 1)
    radius2 = np.bincount(lab_new, weights=d2_new, minlength=len(new)) / counts
    inter = np.zeros((len(old_ids), len(new)))
    np.add.at(inter, (lab_old, lab_new), 1.0)
    size_old = np.maximum(np.bincount(lab_old, minlength=len(old_ids)), 1).astype(float)
    size_new = np.maximum(np.bincount(lab_new, minlength=len(new)), 1).astype(float)
    cost = ((old_c[:, None, :] - new[None, :, :]) ** 2).sum(axis=2)
    rows, cols = linear_sum_assignment(cost)
    ids: dict[int, int] = {}
    for r, c in zip(rows, cols, strict=True):
        stayed = cost[r, c] <= radius2[c]
        if (
            stayed
            and inter[r, c] / size_new[c] >= persist
            and inter[r, c] / size_old[r] >= persist / 2
        ):
            ids[int(c)] = old_ids[r]
    for c in range(len(new)):
        if c not in ids:
            ids[c] = next_id
            next_id += 1
    ids = dict(sorted(ids.items()))
    return {ids[c]: new[c] for c in range(len(new))}, ids, next_id


RESEED_SAMPLE = 20_000
"""Rows searched by a fresh k-means++ at refit time."""
RESEED_GAIN = 0.95
"""Adopt the fresh centres only when inertia drops by more than 5 %."""


def reseed(
    z: np.ndarray, old: np.ndarray, refined: np.ndarray, inertia: float, seed: int, iters: int
) -> np.ndarray:
    """Escape a poor local optimum at the same k without renumbering segments.

    A fresh k-means++ search runs on (a sample of) the current population; if it fits
    clearly better (inertia below ``RESEED_GAIN`` of the refined one), its centres are
    matched to the existing rows by the smallest total centre displacement (Hungarian
    assignment), so every id moves to the new centre closest to what it meant before.
    Returns ``refined`` itself when the fresh fit is not better.

    >>> z = np.array([[0.0], [0.1], [5.0], [5.1], [9.0], [9.1]])
    >>> bad = np.array([[0.05], [0.06], [7.0]])  # two centres on one group
    >>> out = reseed(z, bad, bad, 8.0, seed=1, iters=10)
    >>> sorted(round(float(v), 2) for v in out[:, 0])
    [0.05, 5.05, 9.05]
    """
    sample = z
    if len(z) > RESEED_SAMPLE:
        rng = np.random.default_rng(seed)
        sample = z[rng.choice(len(z), RESEED_SAMPLE, replace=False)]
    fresh = kmeans_pp(sample, len(old), seed)
    fresh, fresh_inertia = lloyd(z, fresh, iters)
    if fresh_inertia >= RESEED_GAIN * inertia:
        return refined
    cost = ((old[:, None, :] - fresh[None, :, :]) ** 2).sum(axis=2)
    rows, cols = linear_sum_assignment(cost)
    matched = np.empty_like(fresh)
    matched[rows] = fresh[cols]
    return matched
