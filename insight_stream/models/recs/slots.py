"""Repeat vs discovery, learned: calibrated hit probabilities for both slot sources.

The top ``k`` is shared between *repeat* items (the user holds them) and *new* items
(the discovery ranking: co-occurrence at every reach, favourite categories,
popularity). Both are turned into the same currency, the probability that the item
is in the user's next order, learned prequentially in event time: at each order,
before the model learns it, the lists the model would have shown are scored
against it.

* A repeat item's estimate is the user's decayed share of orders containing it,
  ``x``, times the measured ratio ``hits / sum(x)`` of its cell: the cell crosses
  the item's learned re-buy rate (:class:`~insight_stream.models.recs.repeat.RepeatRates`),
  the days since the user last bought it and ``x`` itself, and a sparse cell is shrunk
  to its re-buy rate bin, that bin to the shop. So "just bought, rarely
  re-bought within a week" and "nobody re-buys films" are learned, not configured.
* A new item at rank ``r`` of the discovery ranking with discovery score ``s`` gets
  the measured hit rate of new items at rank ``r`` whose score fell in ``s``'s bin,
  shrunk to the measured hit rate of rank ``r``; times the user's own discovery hit rate relative
  to the shop's (shrunk with ``user_prior`` pseudo-orders): some customers explore
  more. The score bin is what lets a strong "bought after X" complement beat a weak
  repeat while a weak popularity filler at the same rank does not.

Merging both lists by probability gives a grocery shop mostly repeats and a shop
where nothing is bought twice only new items, without a preset.
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_right

RATE_EDGES = (0.01, 0.03, 0.06, 0.1, 0.15, 0.22, 0.3, 0.45)
DAYS_EDGES = (1.0, 4.0, 8.0, 15.0, 29.0, 60.0)
SHARE_EDGES = (0.05, 0.1, 0.2, 0.35, 0.5, 0.7)
SCORE_EDGES = (0.005, 0.01, 0.02, 0.04, 0.07, 0.1, 0.15, 0.2, 0.3, 0.45, 0.7, 1.0, 1.5)
"""Bins of a new item's discovery score (sum of weighted similarities and popularity)."""
_SCORE_BINS = len(SCORE_EDGES) + 1
PER_RATE = (len(DAYS_EDGES) + 1) * (len(SHARE_EDGES) + 1)  # cells per re-buy rate bin
N_CELLS = (len(RATE_EDGES) + 1) * PER_RATE
USER_DECAY = 0.9  # a user's discovery record forgets 10 % per order


def repeat_cell(rate: float, days: float, share: float) -> int:
    """Index of the calibration cell of a held item.

    >>> repeat_cell(0.0, 0.0, 0.0), repeat_cell(0.5, 99.0, 0.9) == N_CELLS - 1
    (0, True)
    """
    r = bisect_right(RATE_EDGES, rate)
    d = bisect_right(DAYS_EDGES, days)
    s = bisect_right(SHARE_EDGES, share)
    return (r * (len(DAYS_EDGES) + 1) + d) * (len(SHARE_EDGES) + 1) + s


class SlotBlend:
    """Prequential calibration of repeat and discovery slots.

    Parameters
    ----------
    ranks
        Discovery ranks calibrated (the list length, usually k = 10).
    prior
        Pseudo-trials of every calibration (at today's weight).
    new_start
        Hit rate assumed for a discovery slot before any measurement.
    user_prior
        Pseudo-orders shrinking a user's own discovery record to the shop's.

    >>> b = SlotBlend(ranks=2, prior=1.0, new_start=0.1)
    >>> for _ in range(50):  # a discovery shop: the first new item often bought
    ...     b.observe_new([True, False], 1.0, [0.5, 0.5])
    ...     b.observe_repeat(0, 1.0, False, 1.0)  # held items never bought again
    >>> [round(p, 3) for p in b.p_new(2, 1.0, 0.0, 0.0, [0.5, 0.5])]
    [1.0, 0.0]
    >>> b.p_repeat(0, 1.0, 1.0) < 0.05
    True
    >>> for _ in range(50):  # strong scores hit, weak ones do not, whatever the rank
    ...     b.observe_new([True, False], 1.0, [0.9, 0.001])
    ...     b.observe_new([False, True], 1.0, [0.002, 0.8])
    >>> [round(p, 2) for p in b.p_new(2, 1.0, 0.0, 0.0, [0.001, 0.0005])]
    [0.01, 0.01]
    """

    __slots__ = (
        "by_rate",
        "by_score",
        "new",
        "new_start",
        "prior",
        "rep",
        "rep_shop",
        "user_prior",
    )

    def __init__(
        self, ranks: int = 10, prior: float = 20.0, new_start: float = 0.02, user_prior: float = 3.0
    ) -> None:
        self.prior = prior
        self.new_start = new_start
        self.user_prior = user_prior
        self.rep = array("d", [0.0] * (2 * N_CELLS))  # cell -> hits, sum of x
        self.rep_shop = array("d", [0.0, 0.0])
        self.by_rate = array("d", [0.0] * (2 * (len(RATE_EDGES) + 1)))  # rate bin -> same
        self.new = array("d", [0.0] * (2 * ranks))  # rank -> hits, trials
        # (rank, score bin) -> hits, trials
        self.by_score = array("d", [0.0] * (2 * ranks * (len(SCORE_EDGES) + 1)))

    # -- learning --------------------------------------------------------------------

    def observe_repeat(self, cell: int, x: float, hit: bool, g: float) -> None:
        """One held item at an order: its estimate ``x`` and whether it was re-bought."""
        rep, shop, by_rate = self.rep, self.rep_shop, self.by_rate
        b = cell // PER_RATE
        if hit:
            rep[2 * cell] += g
            by_rate[2 * b] += g
            shop[0] += g
        rep[2 * cell + 1] += g * x
        by_rate[2 * b + 1] += g * x
        shop[1] += g * x

    def observe_new(self, hits: list[bool], g: float, scores: list[float]) -> None:
        """The discovery ranking at an order: which ranks (with these discovery
        scores) were bought."""
        new, by_score = self.new, self.by_score
        for r, (hit, score) in enumerate(zip(hits[: len(new) // 2], scores, strict=False)):
            b = 2 * (r * _SCORE_BINS + bisect_right(SCORE_EDGES, score))
            if hit:
                new[2 * r] += g
                by_score[b] += g
            new[2 * r + 1] += g
            by_score[b + 1] += g

    # -- estimates -------------------------------------------------------------------

    def ratio(self, cell: int, g: float) -> float:
        """Measured hits per unit of estimate in ``cell``, shrunk to its re-buy rate
        bin's, shrunk in turn to the shop's."""
        m = self.prior * g
        hits, mass = self.rep_shop
        ratio = (hits + m) / (mass + m)
        b, by_rate = 2 * (cell // PER_RATE), self.by_rate
        ratio = (by_rate[b] + m * ratio) / (by_rate[b + 1] + m)
        rep = self.rep
        return (rep[2 * cell] + m * ratio) / (rep[2 * cell + 1] + m)

    def p_repeat(self, cell: int, x: float, g: float) -> float:
        """Calibrated probability that a held item is in the next order."""
        return x * self.ratio(cell, g)

    def rank_rates(self, g: float) -> list[float]:
        """Measured hit rate of every discovery rank, each shrunk to the prior
        ``new_start / (1 + rank / 2)`` (a fresh shop trusts its ranking's order)."""
        new, m, start = self.new, self.prior * g, self.new_start
        return [
            (new[2 * r] + m * (start / (1.0 + 0.5 * r))) / (new[2 * r + 1] + m)
            for r in range(len(new) // 2)
        ]

    def rank_rate(self, rank: int, g: float) -> float:
        """:meth:`rank_rates` of one rank (the last one for ranks beyond it)."""
        rates = self.rank_rates(g)
        return rates[min(rank, len(rates) - 1)]

    def p_new(
        self, n: int, g: float, user_hits: float, user_lists: float, scores: list[float]
    ) -> list[float]:
        """Calibrated probabilities of the new items at ranks ``0..n-1`` with discovery
        ``scores`` for a user whose discovery record is ``user_hits`` hits over
        ``user_lists`` (decayed) orders; never increasing with the rank."""
        rates = self.rank_rates(g)
        shop = sum(rates)
        factor = 1.0
        if user_lists > 0.0 and shop > 0.0:
            m = self.user_prior
            factor = (user_hits + m * shop) / ((user_lists + m) * shop)
        m, by_score = self.prior * g, self.by_score
        out, floor = [], math.inf
        last = len(rates) - 1
        for r in range(n):
            c = r if r < last else last
            b = 2 * (c * _SCORE_BINS + bisect_right(SCORE_EDGES, scores[r]))
            rate = (by_score[b] + m * rates[c]) / (by_score[b + 1] + m) * factor
            if rate < floor:
                floor = rate
            out.append(floor)
        return out

    # -- maintenance -----------------------------------------------------------------

    def scale(self, factor: float) -> None:
        """Multiply every count by ``factor`` (after an inflation rebase)."""
        for arr in self._arrays():
            for n in range(len(arr)):
                arr[n] *= factor

    def _arrays(self) -> tuple[array, ...]:
        return (self.rep, self.rep_shop, self.by_rate, self.new, self.by_score)

    def __getstate__(self) -> tuple[object, ...]:
        return (self.prior, self.new_start, self.user_prior, *(a.tobytes() for a in self._arrays()))

    def __setstate__(self, state: tuple[object, ...]) -> None:
        self.prior, self.new_start, self.user_prior, *raw = state  # type: ignore[assignment]
        if len(raw) == 4:  # written before score bins existed: they start empty
            raw.append(bytes(len(raw[3]) * _SCORE_BINS))  # type: ignore[arg-type]
        self.rep, self.rep_shop, self.by_rate, self.new, self.by_score = (
            array("d") for _ in range(5)
        )
        for arr, data in zip(self._arrays(), raw, strict=True):
            arr.frombytes(data)  # type: ignore[arg-type]
