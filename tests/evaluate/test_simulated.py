"""Quality margins on a small simulated shop (the default shop's numbers are in the README)."""

import pytest

from insight_stream.evaluate.simulated import evaluate_simulated
from insight_stream.sim import SimConfig


@pytest.fixture(scope="module")
def report():
    return evaluate_simulated(SimConfig(users=1000, days=90, seed=21))


def test_segments_recover_latent_types(report):
    assert report["metrics"]["segments_ari"] >= 0.7
    assert report["metrics"]["segments_nmi"] >= 0.7
    assert report["counts"]["segmented_users"] >= 300


def test_recommendations_beat_popularity_by_half(report):
    m, pop = report["metrics"], report["baselines"]["popularity"]
    assert m["recs_hr_at_10"] >= 1.5 * pop["recs_hr_at_10"]
    assert m["recs_ndcg_at_10"] > pop["recs_ndcg_at_10"]


def test_churn_is_detected(report):
    assert report["metrics"]["churn_roc_auc"] >= 0.75


def test_alerts_are_mostly_right(report):
    assert report["counts"]["alerts"] > 0
    assert report["metrics"]["alerts_precision"] >= 0.6
    assert report["metrics"]["alerts_recall"] > 0.3
