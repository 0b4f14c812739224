"""The day curve an inactivity timer bisects gives :func:`features` and :func:`p_alive`
bit for bit (timers must fire at the same instants as before, or Kafka and replay of
an older build would disagree)."""

from __future__ import annotations

import random

from insight_stream.models.churn import ChurnConfig
from insight_stream.models.churn.bgnbd import p_alive, p_alive_at
from insight_stream.models.churn.scorer import feature_curve, features
from insight_stream.models.churn.state import DAY_MS

PARAMS = (0.243, 4.414, 0.793, 2.426)


def _snapshot(rng: random.Random) -> tuple:
    """Any mix: ordered or not, clicks or not, one-time or repeat buyers."""
    first = rng.choice([-1, rng.randrange(0, 300)])
    last = first + rng.randrange(0, 200) if first >= 0 else -1
    x = rng.randrange(0, 12) if first >= 0 else 0
    click_first = rng.choice([-1, rng.randrange(0, 300)])
    click_last = click_first + rng.randrange(0, 200) if click_first >= 0 else -1
    click_days = rng.randrange(1, 90) if click_first >= 0 else 0
    decay = rng.uniform(0.0, 30.0) if click_first >= 0 else 0.0
    last_day = max(last, click_last)
    last_ts = last_day * DAY_MS + rng.randrange(DAY_MS) if last_day >= 0 else -1
    return (
        first,
        last,
        x,
        rng.uniform(0, 5),
        rng.uniform(0, 900),
        click_first,
        click_last,
        click_days,
        decay,
        last_ts,
    )


def test_feature_curve_equals_features_bit_for_bit() -> None:
    rng = random.Random(5)
    config = ChurnConfig()
    checked = 0
    for _ in range(400):
        s = _snapshot(rng)
        for fallback in (False, True):
            curve = feature_curve(s, PARAMS, config, fallback)
            for day in rng.sample(range(0, 800), 6):
                assert curve(day) == features(s, day, PARAMS, config, fallback)
                checked += 1
    assert checked == 400 * 2 * 6


def test_p_alive_at_equals_p_alive() -> None:
    rng = random.Random(3)
    for _ in range(500):
        x, t_x = rng.randrange(0, 20), rng.uniform(0, 60)
        at = p_alive_at(PARAMS, x, t_x)
        for T in (t_x, t_x + rng.uniform(0, 100), t_x + 1e4):
            assert at(T) == p_alive(PARAMS, x, t_x, T)
