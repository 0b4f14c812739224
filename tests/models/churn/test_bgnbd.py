import numpy as np
import pytest

from insight_stream.models.churn import bgnbd

TRUE = (0.4, 5.0, 0.8, 2.5)


def test_fit_recovers_simulated_params() -> None:
    rng = np.random.default_rng(42)
    ages = rng.uniform(30.0, 52.0, 6000)
    x, t_x, T = bgnbd.simulate(TRUE, 6000, ages, rng)
    fitted = bgnbd.fit(x, t_x, T, start=(1.0, 1.0, 1.0, 1.0))
    for got, want in zip(fitted, TRUE, strict=True):
        assert got == pytest.approx(want, rel=0.2)


def test_weighted_fit_equals_fit_on_repeated_rows() -> None:
    x, t_x, T = (
        np.array([0, 1, 3, 0]),
        np.array([0.0, 5.0, 20.0, 0.0]),
        np.array([30.0, 25.0, 38.0, 10.0]),
    )
    w = np.array([3.0, 1.0, 2.0, 1.0])
    rep = np.repeat(np.arange(4), w.astype(int))
    a = bgnbd.log_likelihood(TRUE, x, t_x, T, w)
    b = bgnbd.log_likelihood(TRUE, x[rep], t_x[rep], T[rep])
    assert a == pytest.approx(b)


def test_p_alive_falls_with_silence_and_one_timers_alive() -> None:
    recent = bgnbd.p_alive(TRUE, 4, 35.0, 36.0)
    silent = bgnbd.p_alive(TRUE, 4, 10.0, 36.0)
    assert silent < 0.5 < recent
    assert bgnbd.p_alive(TRUE, 0, 0.0, 36.0) == 1.0


def test_expected_purchases_grows_with_horizon_and_frequency() -> None:
    short = bgnbd.expected_purchases(TRUE, 10, 4, 35.0, 36.0)
    long = bgnbd.expected_purchases(TRUE, 40, 4, 35.0, 36.0)
    rare = bgnbd.expected_purchases(TRUE, 40, 1, 35.0, 36.0)
    assert 0 < short < long
    assert rare < long
    assert 0.0 <= bgnbd.p_no_purchase(TRUE, 40, 4, 35.0, 36.0) <= 1.0
