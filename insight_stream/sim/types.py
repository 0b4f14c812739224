"""The latent customer types a simulated world is drawn from.

:data:`TYPES` are today's five (the ``default`` world); :data:`ALL_TYPES` adds
three more behaviours for worlds with ``n_types`` up to 8. Each extra type
differs from all others on at least two observable behaviours (not a relabel):

* ``serial_returner``: frequent mid-price buyer who sends back over half the orders;
* ``cart_abandoner``: fills carts (high view->cart) but rarely checks out, coupon-driven;
* ``mission_shopper``: very frequent, very short visits that nearly always buy one or
  two budget staples.

A world with ``n`` types uses the first ``n`` of :data:`ALL_TYPES`; the shares are
renormalised.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CustomerType:
    """Means of one latent customer type.

    ``cart_rate`` is the chance that a product view in a non-buying session ends
    in the cart (abandoned carts); buying sessions add ``basket`` items on average.
    ``tiers`` weights budget / mid / premium items; ``churn_share`` is the share of
    the type that churns inside the window. ``staples`` is the mean number of
    favourite items a user rebuys, each with probability ``rebuy`` per buying session.
    """

    name: str
    share: float
    visits_per_week: float
    views_per_session: float
    conversion: float
    basket: float
    cart_rate: float
    tiers: tuple[float, float, float]
    coupon_rate: float
    return_rate: float
    cancel_rate: float
    churn_share: float
    search_rate: float
    login_rate: float
    ages: tuple[float, ...]
    devices: tuple[float, float, float]
    staples: float = 0.0
    rebuy: float = 0.0


ALL_TYPES: tuple[CustomerType, ...] = (
    CustomerType(
        name="high_value_loyal",
        share=0.20,
        visits_per_week=1.3,
        views_per_session=3.0,
        conversion=0.45,
        basket=2.5,
        cart_rate=0.12,
        tiers=(0.08, 0.50, 0.42),
        coupon_rate=0.05,
        return_rate=0.03,
        cancel_rate=0.02,
        churn_share=0.15,
        search_rate=0.20,
        login_rate=0.9,
        ages=(1, 3, 4, 3, 2, 1),
        devices=(4, 5, 1),
        staples=4.0,
        rebuy=0.4,
    ),
    CustomerType(
        name="bargain_hunter",
        share=0.25,
        visits_per_week=0.85,
        views_per_session=4.0,
        conversion=0.35,
        basket=3.5,
        cart_rate=0.20,
        tiers=(0.90, 0.09, 0.01),
        coupon_rate=0.85,
        return_rate=0.06,
        cancel_rate=0.06,
        churn_share=0.40,
        search_rate=0.40,
        login_rate=0.6,
        ages=(3, 4, 3, 2, 1, 1),
        devices=(6, 3, 1),
        staples=5.0,
        rebuy=0.35,
    ),
    CustomerType(
        name="window_shopper",
        share=0.20,
        visits_per_week=1.0,
        views_per_session=6.0,
        conversion=0.015,
        basket=1.2,
        cart_rate=0.04,
        tiers=(0.20, 0.40, 0.40),
        coupon_rate=0.15,
        return_rate=0.05,
        cancel_rate=0.08,
        churn_share=0.50,
        search_rate=0.30,
        login_rate=0.3,
        ages=(5, 4, 2, 1, 1, 1),
        devices=(7, 2, 1),
        staples=1.0,
        rebuy=0.05,
    ),
    CustomerType(
        name="occasional_big_spender",
        share=0.13,
        visits_per_week=0.3,
        views_per_session=3.0,
        conversion=0.70,
        basket=5.0,
        cart_rate=0.25,
        tiers=(0.02, 0.10, 0.88),
        coupon_rate=0.03,
        return_rate=0.30,
        cancel_rate=0.03,
        churn_share=0.25,
        search_rate=0.15,
        login_rate=0.7,
        ages=(1, 2, 3, 4, 3, 2),
        devices=(3, 6, 1),
        staples=2.0,
        rebuy=0.15,
    ),
    CustomerType(
        name="casual_regular",
        share=0.22,
        visits_per_week=0.5,
        views_per_session=1.8,
        conversion=0.35,
        basket=1.3,
        cart_rate=0.08,
        tiers=(0.40, 0.55, 0.05),
        coupon_rate=0.15,
        return_rate=0.04,
        cancel_rate=0.04,
        churn_share=0.35,
        search_rate=0.15,
        login_rate=0.5,
        ages=(2, 3, 3, 3, 2, 2),
        devices=(5, 4, 1),
        staples=2.0,
        rebuy=0.3,
    ),
    CustomerType(
        name="serial_returner",
        share=0.15,
        visits_per_week=0.8,
        views_per_session=3.5,
        conversion=0.50,
        basket=3.0,
        cart_rate=0.15,
        tiers=(0.15, 0.65, 0.20),
        coupon_rate=0.10,
        return_rate=0.65,
        cancel_rate=0.05,
        churn_share=0.30,
        search_rate=0.25,
        login_rate=0.7,
        ages=(3, 4, 3, 2, 1, 1),
        devices=(6, 3, 1),
        staples=1.0,
        rebuy=0.1,
    ),
    CustomerType(
        name="cart_abandoner",
        share=0.15,
        visits_per_week=1.1,
        views_per_session=4.5,
        conversion=0.08,
        basket=2.0,
        cart_rate=0.45,
        tiers=(0.35, 0.50, 0.15),
        coupon_rate=0.55,
        return_rate=0.05,
        cancel_rate=0.10,
        churn_share=0.45,
        search_rate=0.35,
        login_rate=0.5,
        ages=(4, 4, 2, 1, 1, 1),
        devices=(7, 2, 1),
        staples=1.0,
        rebuy=0.1,
    ),
    CustomerType(
        name="mission_shopper",
        share=0.15,
        visits_per_week=2.2,
        views_per_session=1.3,
        conversion=0.75,
        basket=1.5,
        cart_rate=0.10,
        tiers=(0.60, 0.35, 0.05),
        coupon_rate=0.05,
        return_rate=0.02,
        cancel_rate=0.02,
        churn_share=0.20,
        search_rate=0.60,
        login_rate=0.95,
        ages=(1, 3, 4, 3, 2, 1),
        devices=(6, 3, 1),
        staples=3.0,
        rebuy=0.6,
    ),
)
"""Every latent type a world can use, in the order of ``GroundTruth.types``."""

TYPES: tuple[CustomerType, ...] = ALL_TYPES[:5]
"""The five types of the ``default`` world (shares sum to 1)."""
MIN_TYPES, MAX_TYPES = 3, len(ALL_TYPES)


def world_types(n: int) -> tuple[CustomerType, ...]:
    """The first ``n`` latent types (3 <= n <= 8).

    >>> [t.name for t in world_types(3)]
    ['high_value_loyal', 'bargain_hunter', 'window_shopper']
    >>> len(world_types(8))
    8
    """
    if not MIN_TYPES <= n <= MAX_TYPES:
        raise ValueError(f"n_types must be in [{MIN_TYPES}, {MAX_TYPES}], got {n}")
    return ALL_TYPES[:n]
