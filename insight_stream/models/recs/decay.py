"""Exponential decay in event time at O(1) per increment ("inflation").

Instead of shrinking every stored count as time passes, an increment made at time
``t`` is stored as ``w * exp((t - t0) / tau)``: newer increments weigh more, which
is the same ranking as decaying the old ones. Ratios of counts stored in the same
units (similarities, shares) need no correction at all; an absolute count at
``now`` is ``stored / exp((now - t0) / tau)``. When the factor grows large, the
owner multiplies its stored values by :meth:`Inflation.rebase`'s factor.
"""

from __future__ import annotations

import math

DAY_MS = 86_400_000
REBASE_AT = 40.0  # exp(40) ~ 2e17: rescale long before float64 loses anything that matters


class Inflation:
    """Event-time clock turning a half-life into growing increment weights.

    Parameters
    ----------
    half_life_days
        Time after which an increment weighs half as much as a fresh one.

    >>> clock = Inflation(half_life_days=1.0)
    >>> clock.weight(0), round(clock.weight(DAY_MS), 6)
    (1.0, 2.0)
    >>> clock.needs_rebase(1000 * DAY_MS)
    True
    >>> round(clock.rebase(2 * DAY_MS), 6), clock.weight(2 * DAY_MS)
    (0.25, 1.0)
    """

    __slots__ = ("inv_tau", "t0")

    def __init__(self, half_life_days: float, t0: int | None = None) -> None:
        self.inv_tau = math.log(2.0) / (half_life_days * DAY_MS)
        self.t0 = t0

    def weight(self, ts: int) -> float:
        """Stored weight of a unit increment at event time ``ts`` (anchors on first use)."""
        if self.t0 is None:
            self.t0 = ts
        return math.exp((ts - self.t0) * self.inv_tau)

    def needs_rebase(self, ts: int) -> bool:
        """True when weights at ``ts`` would be large enough to rescale stored values."""
        return self.t0 is not None and (ts - self.t0) * self.inv_tau > REBASE_AT

    def rebase(self, ts: int) -> float:
        """Move the anchor to ``ts``; return the factor to multiply every stored value by."""
        factor = math.exp(-(ts - (self.t0 if self.t0 is not None else ts)) * self.inv_tau)
        self.t0 = ts
        return factor

    def __getstate__(self) -> tuple[float, int | None]:
        return self.inv_tau, self.t0

    def __setstate__(self, state: tuple[float, int | None]) -> None:
        self.inv_tau, self.t0 = state
