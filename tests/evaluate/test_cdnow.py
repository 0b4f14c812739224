import itertools
from datetime import date

import pytest

pytest.importorskip("lifetimes")

from insight_stream.evaluate.cdnow import PAPER_PARAMS, evaluate_cdnow
from insight_stream.evaluate.datasets import cdnow


def test_sample_file_and_events() -> None:
    rows = cdnow.read("sample")
    assert len(rows) == 6919 and len({r.customer for r in rows}) == 2357
    events = list(cdnow.to_events(rows))
    assert len(events) == 6919
    assert all(a.ts <= b.ts for a, b in itertools.pairwise(events))
    assert events[0].ts == cdnow.day_ms(date(1997, 1, 1))
    assert {e.type for e in events} == {"order_placed"}


@pytest.fixture(scope="module")
def report() -> dict:
    return evaluate_cdnow("sample")


def test_engine_fits_the_paper_params(report: dict) -> None:
    assert report["n_customers"] == 2357
    for name, want in PAPER_PARAMS.items():
        assert report["params"][name] == pytest.approx(want, rel=0.02)


def test_engine_beats_every_baseline(report: dict) -> None:
    auc = report["metrics"]["churn_roc_auc"]
    baselines = {k: v["churn_roc_auc"] for k, v in report["baselines"].items()}
    assert baselines["bgnbd_expected_purchases"] == pytest.approx(0.773, abs=0.005)
    assert baselines["recency"] == pytest.approx(0.778, abs=0.005)
    assert report["blend_learned"]  # the blend learned from in-calibration labels only
    assert all(auc > b for b in baselines.values()), (auc, baselines)


@pytest.mark.slow
def test_another_split_also_beats_baselines() -> None:
    r = evaluate_cdnow("sample", calibration_end=date(1997, 7, 29))
    auc = r["metrics"]["churn_roc_auc"]
    assert all(auc > b["churn_roc_auc"] for b in r["baselines"].values())
