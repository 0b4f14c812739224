"""Fairness report: per-group rates, disparity ratios, and a planted bias it must catch."""

import pytest

from insight_stream.evaluate.fairness import DISPARITY_THRESHOLD, format_fairness
from insight_stream.evaluate.simulated import evaluate_simulated
from insight_stream.processor.fairness import MAX_GROUPS, disparity, group_table
from insight_stream.sim import world


def test_groups_are_bounded_and_small_groups_stay_out_of_the_ratios():
    rows = [({"region": f"r{i % 20}"}, i % 3 == 0, True, i % 2) for i in range(2000)]
    rows += [({"region": "tiny"}, True, False, 0)] * 5
    table = group_table(rows, ("region",))
    assert len(table["region"]) == MAX_GROUPS and "tiny" not in table["region"]
    table = group_table(rows, ("region",), max_groups=30)  # 100 users per region
    assert table["region"]["tiny"]["alert_rate"] == 1.0
    ratios = disparity(table)["region"]  # "tiny" (5 users) would make it 1 / 0.33 = 3
    assert ratios["alert_rate"] < 1.5 and ratios["rec_coverage"] == 1.0


def test_users_without_the_attribute_are_not_a_group():
    table = group_table([({}, True, True, 0), ({"age_band": "x"}, False, True, 0)])
    assert list(table["age_band"]) == ["x"] and table["region"] == {}


@pytest.fixture(scope="module")
def reports():
    return {
        name: evaluate_simulated(world(name, users=2000, days=120))["fairness"]
        for name in ("default", "biased-churn")
    }


@pytest.mark.slow
def test_a_planted_regional_bias_is_flagged_and_the_default_shop_is_not(reports):
    fair, biased = reports["default"], reports["biased-churn"]
    assert fair["disparity"]["region"]["alert_rate"] < DISPARITY_THRESHOLD
    assert biased["disparity"]["region"]["alert_rate"] > DISPARITY_THRESHOLD
    assert "region.alert_rate" in biased["flagged"] and "region.alert_rate" not in fair["flagged"]
    north = biased["groups"]["region"]["north"]
    others = [g for name, g in biased["groups"]["region"].items() if name != "north"]
    assert north["alert_rate"] > max(g["alert_rate"] for g in others)
    # the alerts on north are right: its customers really churn more (precision holds)
    assert north["alert_precision"] >= min(g["alert_precision"] for g in others)
    assert "region" in format_fairness(biased) and "flagged: " in format_fairness(biased)
