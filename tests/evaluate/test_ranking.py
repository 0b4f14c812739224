"""Ranking metrics: exact values on small cases and invariants on random ones."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from insight_stream.evaluate.ranking import RankingMeans, hit_rate, ndcg, recall


def test_exact_values() -> None:
    rec = ["a", "b", "c", "d"]
    rel = {"b", "d", "z"}
    assert hit_rate(rec, rel, k=1) == 0.0
    assert hit_rate(rec, rel, k=2) == 1.0
    assert recall(rec, rel, k=4) == pytest.approx(2 / 3)
    dcg = 1 / math.log2(3) + 1 / math.log2(5)  # hits at ranks 1 and 3 (0-based)
    ideal = 1 + 1 / math.log2(3) + 1 / math.log2(4)  # 3 relevant items, k = 4
    assert ndcg(rec, rel, k=4) == pytest.approx(dcg / ideal)


def test_ideal_dcg_is_capped_at_k() -> None:
    # 20 relevant items, the first 10 recommended all hit: perfect at k = 10.
    rel = {f"i{n}" for n in range(20)}
    assert ndcg([f"i{n}" for n in range(10)], rel, k=10) == pytest.approx(1.0)
    assert recall([f"i{n}" for n in range(10)], rel, k=10) == pytest.approx(0.5)


def test_duplicates_count_once() -> None:
    assert recall(["a", "a", "b"], {"a", "c"}, k=3) == 0.5
    assert ndcg(["a", "a"], {"a", "b"}, k=2) == pytest.approx(1 / (1 + 1 / math.log2(3)))


def test_means_skip_cases_without_relevant_items() -> None:
    m = RankingMeans(k=3)
    m.add(["a"], set())
    assert m.n == 0
    assert m.as_dict() == {"hr_at_3": 0.0, "recall_at_3": 0.0, "ndcg_at_3": 0.0}
    m.add(["a", "b"], {"b"})
    assert m.n == 1
    assert m.as_dict("x_", "_y")["x_ndcg_at_3_y"] == pytest.approx(1 / math.log2(3))


items = st.lists(st.sampled_from("abcdefghij"), max_size=12)


@given(rec=items, rel=st.sets(st.sampled_from("abcdefghij"), min_size=1), k=st.integers(1, 12))
def test_invariants(rec: list[str], rel: set[str], k: int) -> None:
    hr, r, g = hit_rate(rec, rel, k), recall(rec, rel, k), ndcg(rec, rel, k)
    assert 0.0 <= r <= hr <= 1.0
    assert 0.0 <= g <= 1.0 + 1e-12
    assert (g > 0) == (hr > 0)
    perfect = sorted(rel) + [x for x in rec if x not in rel]
    assert ndcg(perfect, rel, k) == pytest.approx(1.0)
    m = RankingMeans(k)
    m.add(rec, rel)
    assert m.as_dict() == pytest.approx({f"hr_at_{k}": hr, f"recall_at_{k}": r, f"ndcg_at_{k}": g})
