"""Latent customer types and the per-user behaviour drawn around them.

Each type is a small set of means (visit rate, browsing depth, conversion,
basket size, price tier, coupon and return rates, category taste, staples).
Every user gets their own parameters drawn within ~10% of their type's means, so
types are separable on profile features yet no two users are identical.

Staples are a user's few favourite items, drawn from their own taste (category
and price tier, popularity-weighted); each buying session rebuys each staple
with the type's ``rebuy`` probability, so repeat purchases are personal.
"""

from __future__ import annotations

import math
import random
from bisect import bisect
from collections.abc import Callable
from itertools import accumulate

from insight_stream.sim.types import ALL_TYPES, TYPES, CustomerType

_WEEK_MS = 7 * 86_400_000
_SPREAD = 0.10
"""Log-normal sigma of per-user parameters around their type's mean."""

AGE_BANDS = ("18-24", "25-34", "35-44", "45-54", "55-64", "65+")
GENDERS = ("female", "male", "other")
REGIONS = ("north", "south", "east", "west", "central")
DEVICES = ("mobile", "desktop", "tablet")
CHANNELS = ("organic", "paid_search", "email", "social", "direct")


def _choice(weights: tuple[float, ...], u: float) -> int:
    cum = list(accumulate(weights))
    return bisect(cum, u * cum[-1])


class Customer:
    """One user's concrete behaviour parameters (read on the hot path; slots for memory)."""

    __slots__ = (
        "basket_m",
        "cancel",
        "cat_cum",
        "conversion",
        "coupon",
        "demo",
        "fade_ms",
        "fade_start",
        "favs",
        "followups",
        "gap_ms",
        "index",
        "limit",
        "login",
        "rebuy",
        "returns",
        "search",
        "signup",
        "staples",
        "tier_cum",
        "type_index",
        "uid",
        "view_cart",
        "views_m",
    )

    def __init__(
        self,
        index: int,
        type_index: int,
        signup: int,
        limit: int,
        rng: random.Random,
        cat_cum: list[float],
        n_categories: int,
        demo: dict[str, str] | None,
        return_mult: float = 1.0,
    ) -> None:
        t = ALL_TYPES[type_index]
        gauss = rng.gauss

        def jitter(x: float) -> float:
            return x * math.exp(gauss(0.0, _SPREAD))

        self.index = index
        self.uid = f"u{index:05d}"
        self.type_index = type_index
        self.signup = signup
        self.limit = limit
        self.gap_ms = _WEEK_MS / jitter(t.visits_per_week)
        self.views_m = jitter(t.views_per_session)
        self.conversion = min(0.95, jitter(t.conversion))
        self.basket_m = jitter(t.basket)
        self.view_cart = min(0.9, jitter(t.cart_rate))
        tiers = [w * math.exp(gauss(0.0, _SPREAD)) for w in t.tiers]
        self.tier_cum = tuple(accumulate(w / sum(tiers) for w in tiers))
        self.coupon = min(0.98, jitter(t.coupon_rate))
        self.returns = min(0.9, jitter(t.return_rate * return_mult))
        self.cancel = min(0.5, jitter(t.cancel_rate))
        self.search = min(0.9, jitter(t.search_rate))
        self.login = min(1.0, jitter(t.login_rate))
        self.cat_cum = cat_cum
        self.favs = (int(rng.random() * n_categories), int(rng.random() * n_categories))
        self.demo = demo
        self.rebuy = t.rebuy
        self.staples: tuple[int, ...] = ()  # drawn by draw_staples (needs the catalog)
        self.followups: list[tuple[int, int]] = []  # (due ts, item) complements to buy later
        # Gradual churn: from ``fade_start`` the visit rate declines linearly to ~0 over
        # ``fade_ms`` (None: visits stop dead at ``limit``).
        self.fade_start: int | None = None
        self.fade_ms = 0

    def taste(self, u1: float, u2: float, u3: float) -> int:
        """Category index for three uniform draws: 30 % one of the two personal
        favourites, else the type's category table."""
        if u1 < 0.3:
            return self.favs[0] if u2 < 0.6 else self.favs[1]
        cum = self.cat_cum
        i = bisect(cum, u3)
        return i if i < len(cum) else len(cum) - 1

    def tier(self, u: float) -> int:
        """Price tier (0 budget, 1 mid, 2 premium) for a uniform draw."""
        tc = self.tier_cum
        return 0 if u < tc[0] else (1 if u < tc[1] else 2)


def draw_staples(
    c: Customer,
    pick: Callable[[int, int, float], int],
    rng: random.Random,
    staple_mult: float = 1.0,
    rebuy_mult: float = 1.0,
) -> None:
    """Give ``c`` its staples: a Poisson-ish count around the type's mean (at least 1
    when the mean is positive), distinct items drawn like the user's own views.

    ``pick(category, tier, u)`` maps a uniform draw to an item (``Catalog.pick``);
    ``staple_mult`` and ``rebuy_mult`` scale the type's means (the catalogue kind:
    more for groceries, fewer for fashion).
    """
    t = ALL_TYPES[c.type_index]
    c.rebuy = min(0.9, t.rebuy * rebuy_mult * math.exp(rng.gauss(0.0, _SPREAD)))
    staples = t.staples * staple_mult
    if staples <= 0.0:
        c.staples = ()
        return
    n = max(1, round(staples * math.exp(rng.gauss(0.0, 0.3))))
    r = rng.random
    chosen: dict[int, None] = {}
    for _ in range(4 * n):
        if len(chosen) >= n:
            break
        chosen[pick(c.taste(r(), r(), r()), c.tier(r()), r())] = None
    c.staples = tuple(chosen)


def draw_demographics(t: CustomerType, rng: random.Random) -> dict[str, str]:
    """Age band, gender, region, device and acquisition channel; age and device lean by type."""
    r = rng.random
    return {
        "age_band": AGE_BANDS[_choice(t.ages, r())],
        "gender": GENDERS[_choice((0.5, 0.46, 0.04), r())],
        "region": REGIONS[int(r() * len(REGIONS))],
        "device": DEVICES[_choice(t.devices, r())],
        "channel": CHANNELS[_choice((4, 2, 2, 2, 1), r())],
    }


def type_category_tables(
    category_weight: list[float], rng: random.Random, n_types: int = len(TYPES)
) -> list[list[float]]:
    """Cumulative category weights per type: each type strongly favours three categories."""
    n = len(category_weight)
    tables = []
    for _ in range(n_types):
        favourites = set(rng.sample(range(n), min(3, n)))
        w = [cw * (5.0 if c in favourites else 1.0) for c, cw in enumerate(category_weight)]
        total = sum(w)
        tables.append(list(accumulate(x / total for x in w)))
    return tables
