"""Settings of the churn model (one frozen dataclass, validated on creation)."""

from __future__ import annotations

from dataclasses import dataclass

CDNOW_PARAMS: tuple[float, float, float, float] = (0.243, 4.414, 0.793, 2.426)
"""BG/NBD (r, alpha, a, b) published for CDNOW (Fader, Hardie & Lee 2005), weeks."""


@dataclass(frozen=True)
class ChurnConfig:
    """Churn settings; the defaults suit a shop whose customers buy every few weeks.

    Parameters
    ----------
    time_unit_days
        BG/NBD time unit (7 = weeks, as in the paper); the params are in this unit.
    refit_every_days
        Event time between maximum-likelihood refits of the population params.
    min_users_for_fit
        Buyers needed before the params are refitted; until then ``prior`` is used.
    prior
        (r, alpha, a, b) before the first fit: the published CDNOW values.
    label_horizon_days
        H of the learned blend: risk is P(no activity in the next H days). Labels mature
        on a fixed event-time grid of this spacing (aligned to the Unix epoch, so every
        instance and every replay uses the same grid).
    order_half_life_days
        Half-life of the decayed order-day count ("buying lately" vs "ever bought").
    click_half_life_days
        Half-life of the decayed browsing-day count.
    min_label_examples
        Matured (features, label) pairs needed before the blend is learned; the
        hand-set default weights are used until then.
    min_label_churners
        Matured examples of each outcome (churned and stayed) needed before the blend
        is (re)learned: a handful of churners is noise, and a blend fitted on it ranked
        far below plain recency (gradual-churn world: 14-20 churners among 1,000).
    max_label_examples
        Most recent matured examples kept for the blend (bounds memory and fit time).
    l2
        Ridge penalty of the logistic blend, on standardized features.
    alert_threshold
        Risk at or above which a valuable customer is alerted.
    reset_threshold
        Risk below which the alert re-arms (hysteresis; must be below the threshold).
    cooldown_days
        Minimum event time between two alerts of the same customer.
    min_value
        Net spend below which a customer is never alerted.
    timer_horizons_days
        Silence lengths (days since the last event) at which a silent customer's
        score is refreshed, besides the moment it crosses ``alert_threshold``.
    republish_delta
        How far a published risk may trail the engine's: a silent user's timer fires
        where silence would raise their risk this much above the one shown, and a refit
        re-publishes every user it moved more than this (processor/freshness.py).
    refresh_spacing_days
        Least event time between two refreshes of a silent customer's published risk,
        unless it moved a decile (``model.DECILE``) first; the alert crossing is never
        delayed. A customer whose risk climbs faster than ``republish_delta`` a day is
        re-published this often, not daily: at 20,000 simulated users daily refreshes
        were most of the engine's time (README, Performance). 0 = daily.
    """

    time_unit_days: float = 7.0
    refit_every_days: float = 7.0
    min_users_for_fit: int = 200
    prior: tuple[float, float, float, float] = CDNOW_PARAMS
    label_horizon_days: int = 56
    order_half_life_days: float = 60.0
    click_half_life_days: float = 30.0
    min_label_examples: int = 500
    min_label_churners: int = 50
    max_label_examples: int = 50_000
    l2: float = 1.0
    alert_threshold: float = 0.95
    reset_threshold: float = 0.8
    cooldown_days: float = 30.0
    min_value: float = 100.0
    timer_horizons_days: tuple[int, ...] = (7, 14, 30, 60, 90, 180, 365)
    republish_delta: float = 0.005
    refresh_spacing_days: float = 3.0

    def __post_init__(self) -> None:
        if not 0.0 < self.republish_delta <= 1.0:
            raise ValueError("republish_delta must be in (0, 1]")
        if not 0.0 <= self.refresh_spacing_days <= 365.0:
            raise ValueError("refresh_spacing_days must be in [0, 365]")
        if self.time_unit_days <= 0 or self.refit_every_days <= 0:
            raise ValueError("time_unit_days and refit_every_days must be positive")
        if len(self.prior) != 4 or min(self.prior) <= 0:
            raise ValueError("prior must be four positive numbers (r, alpha, a, b)")
        if self.label_horizon_days < 1:
            raise ValueError("label_horizon_days must be at least 1")
        if self.min_label_churners < 1:
            raise ValueError("min_label_churners must be at least 1")
        if self.order_half_life_days <= 0 or self.click_half_life_days <= 0:
            raise ValueError("half-lives must be positive")
        if not 0.0 <= self.reset_threshold < self.alert_threshold <= 1.0:
            raise ValueError("need 0 <= reset_threshold < alert_threshold <= 1")
        if self.cooldown_days < 0 or self.min_value < 0:
            raise ValueError("cooldown_days and min_value must be >= 0")
        if not self.timer_horizons_days or sorted(self.timer_horizons_days) != list(
            self.timer_horizons_days
        ):
            raise ValueError("timer_horizons_days must be non-empty and increasing")
