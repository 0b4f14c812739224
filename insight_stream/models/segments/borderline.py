"""How firmly a customer sits in their segment: the next-closest segment and the margin.

A customer halfway between "bargain hunters" and "casual regulars" should not be
treated like a textbook member of either; the runner-up and the distance ratio say so.
Distances are Euclidean in the segmenter's standardised, weighted feature space.
"""

from __future__ import annotations

import math

from insight_stream.models.profile import ProfileState
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
    km = seg.km
    if km is None or len(km.centers) < 2 or assigned not in km.centers:
        return None
    z = seg._z(p)
    dist: dict[int, float] = {}
    for j, c in km.centers.items():
        dist[j] = math.sqrt(sum((v - c.get(i, 0.0)) ** 2 for i, v in z.items()))
    own = dist[assigned]
    best, d = min(((j, d) for j, d in dist.items() if j != assigned), key=lambda t: (t[1], t[0]))
    ratio = own / d if d > 0 else 1.0
    return {
        "id": best,
        "name": names.get(best, ""),
        "distance": round(own, 4),
        "next_distance": round(d, 4),
        "ratio": round(min(ratio, 1e3), 4),
        "borderline": ratio >= BORDERLINE_RATIO,
    }


def distance(seg: Segmenter, p: ProfileState, j: int) -> float:
    """Distance of a profile to the centre of segment ``j`` (the inertia drift signal)."""
    assert seg.km is not None
    c = seg.km.centers[j]
    return math.sqrt(sum((v - c.get(i, 0.0)) ** 2 for i, v in seg._z(p).items()))
