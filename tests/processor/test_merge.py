"""The event-time merge: smallest head first, blocked by empty sources, idle releases."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from insight_stream.processor.merge import Merger


def test_empty_source_blocks_until_it_has_a_record_or_is_idle() -> None:
    m = Merger()
    for key in ((0, 0), (1, 0)):
        m.add_source(key)
    m.push((0, 0), 10, "click")
    assert m.pop() is None and m.blocked() == {(1, 0)}
    m.push((1, 0), 5, "order")
    assert m.pop() == "order"  # the earlier event goes first although it arrived later
    assert m.pop() is None  # (1, 0) is empty again: it may still send something < 10
    m.set_idle((1, 0))
    assert m.pop() == "click"


def test_ties_break_on_the_source_key() -> None:
    m = Merger()
    for key in ((1, 0), (0, 1), (0, 0)):
        m.add_source(key)
        m.push(key, 7, key)
        m.close(key)
    assert [m.pop() for _ in range(3)] == [(0, 0), (0, 1), (1, 0)]


def test_removed_source_gives_back_its_buffer_and_stops_blocking() -> None:
    m = Merger()
    m.add_source("a")
    m.add_source("b")
    m.push("a", 1, "a1")
    m.push("b", 2, "b2")
    assert m.remove_source("b") == ["b2"]
    assert m.pop() == "a1" and m.pop() is None and m.blocked() == {"a"}


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 50)), max_size=60), st.randoms())
def test_merge_of_sorted_sources_is_a_stable_sort_whatever_the_arrival_order(
    records: list[tuple[int, int]], rnd: random.Random
) -> None:
    """Per source in ts order, pushed in any interleaving: the output is sorted by (ts, key)."""
    per: dict[int, list[int]] = {}
    for key, ts in records:
        per.setdefault(key, []).append(ts)
    m = Merger()
    for key in range(4):
        m.add_source(key)
    queues = {k: sorted(v) for k, v in per.items()}
    out: list[tuple[int, int]] = []
    while any(queues.values()):
        key = rnd.choice([k for k, q in queues.items() if q])
        ts = queues[key].pop(0)
        m.push(key, ts, (ts, key))
        if not queues[key]:
            m.close(key)
        while (item := m.pop()) is not None:
            out.append(item)
    for key in range(4):
        m.close(key)
    while (item := m.pop()) is not None:
        out.append(item)
    assert out == sorted((ts, k) for k, ts in records)
