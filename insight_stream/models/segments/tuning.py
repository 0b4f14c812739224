"""Choosing k: inertia (for the elbow) and silhouette over a range of k on a feature sample."""

from __future__ import annotations

import numpy as np

from insight_stream.models.segments.seeding import assign, kmeans_pp, silhouette


def tune_k(x: np.ndarray, ks: range, seed: int = 42) -> list[dict[str, float]]:
    """Standardise ``x`` (rows = users, already log-transformed) and score each k.

    >>> rng = np.random.default_rng(0)
    >>> blobs = np.vstack([rng.normal(c, 0.1, size=(50, 2)) for c in (0, 3, 6)])
    >>> best = max(tune_k(blobs, range(2, 6)), key=lambda r: r["silhouette"])
    >>> best["k"]
    3
    """
    std = x.std(axis=0)
    std[std < 1e-9] = 1.0
    z = (x - x.mean(axis=0)) / std
    rows = []
    for k in ks:
        if k < 2 or k > len(z):
            continue
        centres = kmeans_pp(z, k, seed)
        labels, d2 = assign(z, centres)
        rows.append({"k": k, "inertia": float(d2.sum()), "silhouette": silhouette(z, labels)})
    return rows
