"""Segment portraits stay truthful in every simulated world, whatever k was chosen."""

from __future__ import annotations

import pytest

from insight_stream.events import DlqRecord, decode
from insight_stream.models.segments.features import FEATURES
from insight_stream.models.segments.portraits import (
    ARCHETYPES,
    LABELS,
    archetype_fits,
    describe,
    name_segments,
)
from insight_stream.processor import Processor
from insight_stream.sim import Shop, world

WORLD_NAMES = ["default", "three-types", "eight-types", "gradual-churn", "fashion", "grocery"]


def _segmenter(name: str):
    proc = Processor()
    for topic, raw in Shop(world(name, users=300, days=60, seed=11)).events():
        ev = decode(raw, topic)
        if not isinstance(ev, DlqRecord):
            proc.process(ev)
    return proc.segments


def assert_truthful(seg) -> None:
    portraits = seg.portraits()
    assert portraits and len({p["name"] for p in portraits.values()}) == len(portraits)
    by_label = {label: i for i, label in enumerate(LABELS[f.name] for f in FEATURES)}
    for sid, p in portraits.items():
        z = seg.centroid_z(sid)
        assert p["description"] == describe(seg.centroid(sid))
        if p["name"] in ARCHETYPES:
            assert archetype_fits(p["name"], z), (p["name"], z)
        else:
            # "high view->cart, low sessions/week": every part matches the centroid
            for part in p["name"].split(", "):
                level, label = part.split(" ", 1)
                assert (z[by_label[label]] >= 0) == (level == "high"), (p["name"], z)


@pytest.mark.parametrize("name", WORLD_NAMES)
def test_portraits_match_their_centroids_in_every_world(name: str) -> None:
    seg = _segmenter(name)  # 300 customers, 60 days: the adaptive warm-up completes
    assert seg.status == "ready"
    assert_truthful(seg)


def test_a_segment_no_archetype_fits_is_named_by_its_features() -> None:
    z = [0.0] * len(FEATURES)
    z[3] = -0.4  # slightly low view->cart, nothing else: no archetype scores >= 0.5
    names = name_segments({0: z})
    assert names[0][0] == "low view->cart"
