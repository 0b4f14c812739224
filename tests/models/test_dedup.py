"""The per-user window of recent event ids: bounded, pure, stable across processes."""

from __future__ import annotations

import sys

import pytest

from insight_stream.models.dedup import DEFAULT_CAPACITY, HASH_BYTES, RecentEvents, event_key


def test_duplicates_within_the_window_are_found_and_older_ones_forgotten() -> None:
    dedup = RecentEvents(capacity=3)
    ring = dedup.new_user()
    for eid in ("a", "b", "c"):
        ring = dedup.add(ring, eid)
    for eid in ("a", "b", "c"):
        assert dedup.add(ring, eid) is None
    ring = dedup.add(ring, "d")  # a drops out
    assert dedup.add(ring, "a") is not None and dedup.add(ring, "b") is None


def test_the_ring_is_bounded_and_fits_one_64_byte_block() -> None:
    dedup = RecentEvents()
    ring = dedup.new_user()
    for k in range(10_000):
        ring = dedup.add(ring, f"event-{k}")
    assert len(ring) == DEFAULT_CAPACITY * HASH_BYTES
    assert sys.getsizeof(ring) <= 64


def test_add_is_pure() -> None:
    dedup = RecentEvents()
    ring = dedup.add(dedup.new_user(), "a")
    before = bytes(ring)
    dedup.add(ring, "b")
    assert ring == before


def test_a_match_straddling_two_entries_is_not_a_duplicate() -> None:
    dedup = RecentEvents(capacity=2)
    h = event_key("target")
    straddling = b"\x00" * 2 + h + b"\x00" * 4  # h across entries 0 and 1
    assert dedup.add(straddling, "target") is not None
    aligned = b"\x00" * 6 + h
    assert dedup.add(aligned, "target") is None


def test_off_and_bad_parameters() -> None:
    off = RecentEvents(capacity=0)
    ring = off.add(off.new_user(), "a")
    assert off.add(ring, "a") == b""
    with pytest.raises(ValueError, match="capacity"):
        RecentEvents(capacity=-1)


def test_hashes_are_stable_across_processes() -> None:
    """Rings are checkpointed, so the hash must not depend on the process (no salted hash)."""
    assert event_key("e1").hex() == "278d8d089700"
    assert event_key("s0000012-3").hex() == "f84ab2a82702"
    assert len(event_key("\ud800")) == HASH_BYTES  # a lone surrogate (legal in JSON) hashes too


def test_no_false_duplicates_among_many_similar_ids() -> None:
    dedup = RecentEvents()
    ring = b""
    for k in range(200_000):
        nxt = dedup.add(ring, f"s{k // 7:07d}-{k % 7}")
        assert nxt is not None, k
        ring = nxt
