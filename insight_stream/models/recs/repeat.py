"""Repeat eligibility learned per item and per category: who buys it again?

At every order of a user, each item the user already holds is a trial ("the user
could have re-bought it") and a success if the order re-buys it. Decayed counts
of both, per item and per category (the category of the item's order lines), give
a re-buy rate shrunk towards the category's, itself shrunk towards the shop's:
``rate(i) = (s_i + m rate(cat)) / (t_i + m rate_prior)``, ``m`` pseudo-trials.
Films or durables that nobody re-buys get a rate near 0 and stop coming back as
repeats; milk gets a high one. Memory: two floats per item and per category.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable

from insight_stream.models.recs.cooccurrence import FORGET

_intern = sys.intern


class RepeatRates:
    """Decayed re-buy rates per item, category and shop.

    Parameters
    ----------
    prior
        Pseudo-trials ``m`` of the shrinkage (in trials at today's weight).
    start
        Shop-wide rate assumed before any trial.

    >>> rr = RepeatRates(prior=2.0)
    >>> rr.category.update({"milk": "dairy", "film": "video", "yoghurt": "dairy"})
    >>> for _ in range(20):
    ...     rr.observe([("milk", True), ("film", False)], 1.0)
    >>> round(rr.rate("milk", 1.0), 2), round(rr.rate("film", 1.0), 2)
    (1.0, 0.0)
    >>> round(rr.rate("yoghurt", 1.0), 2)  # never tried: its category's rate
    0.95
    """

    __slots__ = ("by_category", "by_item", "category", "prior", "shop", "start")

    def __init__(self, prior: float = 5.0, start: float = 0.3) -> None:
        self.prior = prior
        self.start = start
        self.by_item: dict[str, list[float]] = {}  # item -> [successes, trials]
        self.by_category: dict[str, list[float]] = {}
        self.category: dict[str, str] = {}  # item -> category (last seen)
        self.shop = [0.0, 0.0]

    def observe(self, trials: Iterable[tuple[str, bool]], g: float) -> None:
        """Fold one order: ``(held item, re-bought in this order?)``, weight ``g``."""
        by_item, by_cat, cat_of, shop = self.by_item, self.by_category, self.category, self.shop
        for item, hit in trials:
            h = g if hit else 0.0
            row = by_item.get(item)
            if row is None:
                by_item[item] = [h, g]
            else:
                row[0] += h
                row[1] += g
            cat = cat_of.get(item)
            if cat is not None:
                crow = by_cat.get(cat)
                if crow is None:
                    by_cat[cat] = [h, g]
                else:
                    crow[0] += h
                    crow[1] += g
            shop[0] += h
            shop[1] += g

    def rate(self, item: str, g: float) -> float:
        """Shrunk re-buy rate of ``item`` (``g``: today's weight, the prior's unit)."""
        m = self.prior * g
        s, t = self.shop
        rate = (s + m * self.start) / (t + m)
        cat = self.category.get(item)
        crow = self.by_category.get(cat) if cat is not None else None
        if crow is not None:
            rate = (crow[0] + m * rate) / (crow[1] + m)
        row = self.by_item.get(item)
        if row is not None:
            rate = (row[0] + m * rate) / (row[1] + m)
        return rate

    def scale(self, factor: float) -> None:
        """Multiply every count by ``factor`` (inflation rebase); forget dead items."""
        self.by_item = {
            i: [s * factor, t * factor] for i, (s, t) in self.by_item.items() if t * factor > FORGET
        }
        self.by_category = {c: [s * factor, t * factor] for c, (s, t) in self.by_category.items()}
        self.shop = [self.shop[0] * factor, self.shop[1] * factor]

    def __getstate__(self) -> tuple[object, ...]:
        return self.prior, self.start, self.by_item, self.by_category, self.category, self.shop

    def __setstate__(self, state: tuple[object, ...]) -> None:
        self.prior, self.start, by_item, self.by_category, category, self.shop = state  # type: ignore[assignment]
        self.by_item = {_intern(i): v for i, v in by_item.items()}  # type: ignore[attr-defined]
        self.category = {_intern(i): c for i, c in category.items()}  # type: ignore[attr-defined]
