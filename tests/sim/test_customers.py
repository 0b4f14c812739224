from __future__ import annotations

import random
from statistics import median

from insight_stream.sim.customers import (
    AGE_BANDS,
    TYPES,
    Customer,
    draw_demographics,
    draw_staples,
    type_category_tables,
)

WEEK_MS = 7 * 86_400_000


def _customers(type_index: int, n: int = 1000) -> list[Customer]:
    rng = random.Random(4)
    table = type_category_tables([1.0] * 10, rng)[type_index]
    return [Customer(i, type_index, 0, 10**13, rng, table, 10, None) for i in range(n)]


def test_at_least_five_types_with_unequal_but_real_shares() -> None:
    assert len(TYPES) >= 5
    shares = [t.share for t in TYPES]
    assert abs(sum(shares) - 1.0) < 1e-9
    assert min(shares) >= 0.1 and max(shares) > min(shares)
    assert len({t.name for t in TYPES}) == len(TYPES)


def test_user_parameters_scatter_modestly_around_the_type_mean() -> None:
    for index, kind in enumerate(TYPES):
        users = _customers(index)
        rates = sorted(WEEK_MS / c.gap_ms for c in users)
        assert abs(median(rates) / kind.visits_per_week - 1) < 0.03
        spread = (rates[840] - rates[160]) / 2 / median(rates)  # ~1 sigma
        assert 0.05 < spread < 0.15
        assert abs(median(c.conversion for c in users) / kind.conversion - 1) < 0.03


def test_types_differ_on_their_defining_means() -> None:
    by = {t.name: t for t in TYPES}
    loyal, window = by["high_value_loyal"], by["window_shopper"]
    bargain, big = by["bargain_hunter"], by["occasional_big_spender"]
    assert loyal.conversion > 10 * window.conversion
    assert window.views_per_session >= 2 * loyal.views_per_session
    assert bargain.coupon_rate > 5 * loyal.coupon_rate
    assert big.tiers[2] > 0.7 and bargain.tiers[0] > 0.7
    assert big.visits_per_week < loyal.visits_per_week / 3
    assert big.return_rate > 3 * loyal.return_rate


def test_each_type_favours_a_few_categories() -> None:
    tables = type_category_tables([1.0] * 10, random.Random(0))
    for cum in tables:
        weights = [b - a for a, b in zip([0.0, *cum[:-1]], cum, strict=True)]
        assert abs(cum[-1] - 1.0) < 1e-9
        assert sorted(weights, reverse=True)[2] > 3 * min(weights)


def test_demographics_have_every_field() -> None:
    demo = draw_demographics(TYPES[0], random.Random(1))
    assert set(demo) == {"age_band", "gender", "region", "device", "channel"}
    assert demo["age_band"] in AGE_BANDS


def test_staples_follow_the_users_taste_and_type() -> None:
    from insight_stream.sim.catalog import Catalog

    rng = random.Random(5)
    cat = Catalog(600, 10, rng)
    tables = type_category_tables(cat.category_weight, rng)
    names = [t.name for t in TYPES]
    counts: dict[str, list[int]] = {}
    tiers: dict[str, list[int]] = {}
    for type_index, name in enumerate(names):
        for i in range(300):
            c = Customer(i, type_index, 0, 10**13, rng, tables[type_index], 10, None)
            draw_staples(c, cat.pick, rng)
            counts.setdefault(name, []).append(len(c.staples))
            tiers.setdefault(name, []).extend(cat.item_tier[s] for s in c.staples)
            assert 0.0 < c.rebuy < 1.0

    def mean(xs: list[int]) -> float:
        return sum(xs) / len(xs)

    assert mean(counts["bargain_hunter"]) > 3 * mean(counts["window_shopper"])
    assert mean(counts["high_value_loyal"]) > 2 * mean(counts["window_shopper"])
    assert mean([t == 0 for t in tiers["bargain_hunter"]]) > 0.7  # budget staples
    assert mean([t == 2 for t in tiers["occasional_big_spender"]]) > 0.7  # premium ones
