from __future__ import annotations

import random
from statistics import mean

from insight_stream.sim.catalog import TIERS, Catalog
from insight_stream.sim.config import SimConfig


def _default() -> Catalog:
    cfg = SimConfig()
    return Catalog(cfg.items, cfg.categories, random.Random(1))


def test_default_catalog_size_and_every_bucket_filled() -> None:
    cat = _default()
    assert 12 <= len(cat.categories) <= 20
    assert 300 <= len(cat.item_ids) <= 2000
    assert len(set(cat.item_ids)) == len(cat.item_ids)
    for c in range(len(cat.categories)):
        for t in range(len(TIERS)):
            members, cum = cat.bucket_table[c][t]
            assert members and len(members) == len(cum)


def test_premium_items_cost_more_than_budget_items_in_each_category() -> None:
    cat = _default()
    for c in range(len(cat.categories)):
        prices = {
            t: [
                p
                for i, p in enumerate(cat.item_price)
                if cat.item_cat[i] == c and cat.item_tier[i] == t
            ]
            for t in range(len(TIERS))
        }
        assert mean(prices[0]) < mean(prices[1]) < mean(prices[2])
    assert min(cat.item_price) > 0


def test_popularity_is_heavy_tailed() -> None:
    cat = _default()
    weights = sorted(cat.popularity, reverse=True)
    top = sum(weights[: len(weights) // 10])
    assert top / sum(weights) > 0.4  # Zipf: the top 10% of items hold most of the mass


def test_complements_are_disjoint_symmetric_pairs() -> None:
    cat = _default()
    assert len(cat.pairs) >= 50
    seen = [i for pair in cat.pairs for i in pair]
    assert len(seen) == len(set(seen))
    for a, b in cat.pairs:
        assert a != b and cat.complement[a] == b and cat.complement[b] == a


def test_pick_respects_category_and_tier_and_popularity() -> None:
    cat = _default()
    rng = random.Random(2)
    picks = [cat.pick(3, 1, rng.random()) for _ in range(3000)]
    assert {(cat.item_cat[i], cat.item_tier[i]) for i in picks} == {(3, 1)}
    members, _ = cat.bucket_table[3][1]
    assert picks.count(members[0]) > picks.count(members[-1])
