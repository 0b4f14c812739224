"""The profile features segments are built on, in the units people read.

Rates and money are log-scaled before clustering (``log1p``) so a few heavy
buyers do not own the geometry; :data:`FEATURES` says how to read each back.
Feature keys are small ints: river's KMeans sums over a set of keys, and int
hashing keeps that order (and so the floating-point result) the same in every
process.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from insight_stream.models.profile import ProfileState


class Feature(NamedTuple):
    name: str
    unit: str
    log: bool  # clustered as log1p(value)
    weight: float = 1.0  # scale after standardisation: < 1 for noisy features


FEATURES: tuple[Feature, ...] = (
    Feature("orders_per_week", "orders/week", True, 0.7),  # largely implied by the next two
    Feature("sessions_per_week", "sessions/week", True),
    Feature("events_per_session", "events/session", True),
    Feature("view_to_cart", "rate", False),
    Feature("session_to_order", "rate", False),
    Feature("avg_order_value", "$", True),
    Feature("avg_item_price", "$", True),
    Feature("coupon_share", "share of orders", False),
    Feature("return_rate", "share of orders", False, 0.8),  # few orders -> noisy, but the
    # only feature serial returners stand out on: at 0.5 they merge with loyal buyers
)
N_FEATURES = len(FEATURES)
_LOG = tuple(f.log for f in FEATURES)
WEIGHTS: tuple[float, ...] = tuple(f.weight for f in FEATURES)


# Rates are smoothed towards a population-typical prior with a few pseudo-counts:
# a user with one order would otherwise sit at 0 % or 100 % coupon use and pull
# a centre on their own. (prior rate, pseudo-count)
_CART_PRIOR = (0.3, 2.0)
_ORDER_PRIOR = (0.3, 2.0)
_COUPON_PRIOR = (0.2, 2.0)
_RETURN_PRIOR = (0.05, 2.0)


def _rate(hits: float, trials: float, prior: tuple[float, float]) -> float:
    rate, weight = prior
    return (hits + rate * weight) / (trials + weight)


def raw_features(p: ProfileState) -> list[float]:
    """Feature values in natural units (before log and standardisation).

    >>> p = ProfileState(0)
    >>> [round(v, 3) for v in raw_features(p)]
    [0.0, 0.0, 0.0, 0.3, 0.3, 0.0, 0.0, 0.2, 0.05]
    """
    weeks = p.active_weeks()
    orders = p.orders
    sessions = p.sessions or 1
    if p.priced_views:
        item_price = p.price_sum / p.priced_views
    elif p.items_bought:
        item_price = p.gross / p.items_bought
    else:
        item_price = 0.0
    return [
        orders / weeks,
        p.sessions / weeks,
        p.session_events / sessions,
        _rate(min(p.carts, p.views), p.views, _CART_PRIOR),
        _rate(min(orders, p.sessions), p.sessions, _ORDER_PRIOR),
        p.gross / orders if orders else 0.0,
        item_price,
        _rate(p.coupon_orders, orders, _COUPON_PRIOR),
        _rate(min(p.returns, orders), orders, _RETURN_PRIOR),
    ]


def transform(raw: list[float]) -> list[float]:
    """Apply the per-feature log scaling.

    >>> transform([0.0] * N_FEATURES)[:2]
    [0.0, 0.0]
    """
    return [math.log1p(v) if lg else v for v, lg in zip(raw, _LOG, strict=True)]


def untransform(values: list[float]) -> list[float]:
    """Inverse of :func:`transform` (for portraits in original units)."""
    return [math.expm1(v) if lg else v for v, lg in zip(values, _LOG, strict=True)]
