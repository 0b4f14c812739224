"""How firmly a customer sits in their segment: the next-closest segment and the margin.

A customer halfway between "bargain hunters" and "casual regulars" should not be
treated like a textbook member of either; the runner-up and the distance ratio say so.
Distances are Euclidean in the segmenter's standardised, weighted feature space.
"""

from __future__ import annotations

import math

from insight_stream.models.profile import ProfileState
from insight_stream.models.segments.features import N_FEATURES, WEIGHTS, raw_features, transform
from insight_stream.models.segments.segmenter import Segmenter

BORDERLINE_RATIO = 0.8
"""Distance to the own centre over distance to the runner-up above which a customer is
borderline (1.0 = exactly halfway)."""


def runner_up(
    seg: Segmenter, p: ProfileState, assigned: int, names: dict[int, str]
) -> dict[str, object] | None:
    """``{"id", "name", "distance", "next_distance", "ratio", "borderline"}`` or None.

    None with fewer than two segments or before the warm-up. ``ratio`` above 1 means
    the customer has moved closer to the runner-up since their last assignment.

    >>> from insight_stream.models.segments.segmenter import SegmentConfig
    >>> s = Segmenter(SegmentConfig(k=2))
    >>> s._set_centres({0: {i: 0.0 for i in range(8)}, 1: {i: 1.0 for i in range(8)}})
    >>> r = runner_up(s, ProfileState(0), 0, {1: "big spenders"})
    >>> r["id"], r["name"], 0 <= r["ratio"] <= 1
    (1, 'big spenders', True)
    """
    centres = _centres(seg)
    if len(centres) < 2 or assigned not in centres:
        return None
    z = _z(seg, p)
    own = best_d = 0.0
    best = -1
    for j, c in centres.items():
        d = math.dist(z, c)
        if j == assigned:
            own = d
        elif best < 0 or d < best_d:
            best, best_d = j, d
    ratio = own / best_d if best_d > 0 else 1.0
    return {
        "id": best,
        "name": names.get(best, ""),
        "distance": round(own, 4),
        "next_distance": round(best_d, 4),
        "ratio": round(min(ratio, 1e3), 4),
        "borderline": ratio >= BORDERLINE_RATIO,
    }


def distance(seg: Segmenter, row: list[float], j: int) -> float:
    """Distance of a feature row (``transform(raw_features(p))``) to the centre of segment
    ``j`` (the inertia drift signal)."""
    assert seg.km is not None
    return math.dist(_z_row(seg, row), _centres(seg)[j])


def _z(seg: Segmenter, p: ProfileState) -> list[float]:
    return _z_row(seg, transform(raw_features(p)))


def _z_row(seg: Segmenter, t: list[float]) -> list[float]:
    mean, std = seg.mean, seg.std
    return [(t[i] - mean[i]) / std[i] * WEIGHTS[i] for i in range(N_FEATURES)]


_cache: list[object] = [None, None, None, {}]  # km, learned, refits, id -> centre list


def _centres(seg: Segmenter) -> dict[int, list[float]]:
    """Centres as lists (ids in sorted order), rebuilt only when the centres moved."""
    km = seg.km
    if km is None:
        return {}
    if _cache[0] is not km or _cache[1] != seg.learned or _cache[2] != seg.refits:
        centres = {j: seg.centroid_z(j) for j in sorted(km.centers)}
        _cache[:] = [km, seg.learned, seg.refits, centres]
    return _cache[3]  # type: ignore[return-value]
