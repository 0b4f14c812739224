"""Customer profile: RFM, tenure, sessions, funnel, decayed category affinities.

One :class:`ProfileState` per user, updated in O(1) per event. Category affinities
decay in event time with the "inflation" trick: an increment at time ``t`` is
stored as ``w * exp((t - anchor) / tau)`` so nothing has to be decayed on write;
reads divide by the same factor at ``now``.
"""

from __future__ import annotations

import math
import re
import sys
from dataclasses import dataclass, field

from insight_stream.events.inputs import ClickEvent, OrderEvent

DAY_MS = 86_400_000

# Weight of each click type in category affinity (orders weigh ORDER_AFFINITY per unit).
_CLICK_AFFINITY = {
    "product_view": 1.0,
    "add_to_cart": 3.0,
    "wishlist": 2.0,
    "remove_from_cart": -1.0,
}
ORDER_AFFINITY = 5.0
_intern = sys.intern
KEPT_DEMOGRAPHICS = ("age_band", "region")
"""The only demographics stored and published (docs/privacy.md): minimised to what is used."""
_BAND = re.compile(r"[A-Za-z0-9+<>._ -]{1,32}").fullmatch
MAX_CATEGORIES = 8  # affinities kept per user; the weakest is dropped beyond this
_RENORMALISE_AT = 40.0  # exp(40) ~ 2e17: rescale long before float64 trouble


@dataclass(frozen=True)
class ProfileConfig:
    """Profile settings.

    Parameters
    ----------
    affinity_half_life_days
        Half-life of category affinities in event time.
    session_gap_minutes
        A click without a session id starts a new session after this much silence.
    top_categories
        How many categories a published profile lists.
    """

    affinity_half_life_days: float = 30.0
    session_gap_minutes: float = 30.0
    top_categories: int = 3
    # derived once here rather than per event
    gap_ms: float = field(init=False, repr=False, compare=False)
    tau_ms: float = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.affinity_half_life_days <= 0:
            raise ValueError("profile.affinity_half_life_days must be > 0")
        if self.session_gap_minutes <= 0:
            raise ValueError("profile.session_gap_minutes must be > 0")
        if self.top_categories < 0:
            raise ValueError("profile.top_categories must be >= 0")
        object.__setattr__(self, "gap_ms", self.session_gap_minutes * 60_000)
        object.__setattr__(self, "tau_ms", self.affinity_half_life_days * DAY_MS / math.log(2))


class ProfileState:
    """Sufficient statistics of one customer, compact (``__slots__``).

    >>> from insight_stream.events import EVENT_ADAPTER
    >>> p = ProfileState(0)
    >>> cfg = ProfileConfig()
    >>> view = EVENT_ADAPTER.validate_python(dict(event_id="e", user_id="u", type="product_view",
    ...     session_id="s1", item_id="i1", category="books", price=10.0, ts=0))
    >>> p.on_click(view, cfg)
    >>> p.views, p.sessions, p.top_categories(1)
    (1, 1, [('books', 1.0)])
    """

    __slots__ = (
        "aff",
        "aff_anchor",
        "cancellations",
        "carts",
        "coupon_orders",
        "demographics",
        "first_order",
        "first_seen",
        "gross",
        "items_bought",
        "last_order",
        "last_seen",
        "n_events",
        "net",
        "orders",
        "price_sum",
        "priced_views",
        "returned_value",
        "returns",
        "session",
        "session_events",
        "sessions",
        "views",
    )

    def __init__(self, ts: int) -> None:
        self.first_seen = ts
        self.last_seen = ts
        self.n_events = 0
        self.sessions = 0
        self.session: str | None = None
        self.session_events = 0  # events in all sessions (for the average)
        self.views = 0
        self.carts = 0
        self.priced_views = 0
        self.price_sum = 0.0  # sum of viewed prices: price level even without orders
        self.orders = 0
        self.cancellations = 0
        self.returns = 0
        self.coupon_orders = 0
        self.items_bought = 0
        self.gross = 0.0
        self.net = 0.0
        self.returned_value = 0.0
        self.first_order: int | None = None
        self.last_order: int | None = None
        self.aff: dict[str, float] = {}
        self.aff_anchor = ts
        self.demographics: tuple[tuple[str, str], ...] | None = None

    def set_fields(self, values: tuple) -> None:
        """Set every field from a tuple in ``__slots__`` order (packed users, users.py).

        >>> p = ProfileState(7)
        >>> q = ProfileState(0)
        >>> q.set_fields(tuple(getattr(p, s) for s in ProfileState.__slots__))
        >>> q.first_seen
        7
        """
        (
            self.aff,
            self.aff_anchor,
            self.cancellations,
            self.carts,
            self.coupon_orders,
            self.demographics,
            self.first_order,
            self.first_seen,
            self.gross,
            self.items_bought,
            self.last_order,
            self.last_seen,
            self.n_events,
            self.net,
            self.orders,
            self.price_sum,
            self.priced_views,
            self.returned_value,
            self.returns,
            self.session,
            self.session_events,
            self.sessions,
            self.views,
        ) = values

    # -- updates ---------------------------------------------------------------------
    def _touch(self, ts: int) -> None:
        self.n_events += 1
        if ts > self.last_seen:
            self.last_seen = ts
        if ts < self.first_seen:
            self.first_seen = ts

    def _affinity(self, category: str, weight: float, ts: int, tau_ms: float) -> None:
        x = (ts - self.aff_anchor) / tau_ms
        if x > _RENORMALISE_AT:
            scale = math.exp(-x)
            self.aff = {c: v * scale for c, v in self.aff.items() if v * scale > 1e-6}
            self.aff_anchor = ts
            x = 0.0
        aff = self.aff
        value = aff.get(category)
        if value is None:
            category = _intern(category)  # one shared string per category, not one per user
            value = 0.0
        value += weight * math.exp(x)
        aff[category] = value if value > 0.0 else 0.0
        if len(aff) > MAX_CATEGORIES:
            del aff[min(aff.items(), key=lambda kv: (kv[1], kv[0]))[0]]

    def on_click(self, ev: ClickEvent, cfg: ProfileConfig) -> None:
        ts = ev.ts
        sid = ev.session_id
        if sid is None:
            # No session id from the producer: sessionise by inactivity gap.
            if self.n_events == 0 or ts - self.last_seen > cfg.gap_ms:
                sid = f"gap:{ts}"
            else:
                sid = self.session
        self._touch(ts)
        if sid != self.session:
            self.session = sid
            self.sessions += 1
        self.session_events += 1
        kind = ev.type
        if kind == "product_view":
            self.views += 1
            if ev.price is not None:
                self.priced_views += 1
                self.price_sum += ev.price
        elif kind == "add_to_cart":
            self.carts += 1
        if ev.category is not None:
            w = _CLICK_AFFINITY.get(kind)
            if w is not None:
                self._affinity(ev.category, w, ts, cfg.tau_ms)
        if ev.age_band or ev.region:
            self._demographics(ev.age_band, ev.region)

    def _demographics(self, age_band: str | None, region: str | None) -> None:
        """Keep only the bands in :data:`KEPT_DEMOGRAPHICS`, and only band-shaped values:
        gender, device, channel and anything that looks like free text are never stored."""
        demo = {k: v for k, v in (("age_band", age_band), ("region", region)) if v and _BAND(v)}
        if not demo:
            return
        if self.demographics:
            demo = {**{k: v for k, v in self.demographics if k in KEPT_DEMOGRAPHICS}, **demo}
        self.demographics = tuple(sorted((k, _intern(v)) for k, v in demo.items()))

    def on_order(self, ev: OrderEvent, cfg: ProfileConfig) -> None:
        ts = ev.ts
        self._touch(ts)
        kind = ev.type
        total = ev.total
        if kind == "order_placed":
            self.orders += 1
            self.gross += total
            self.net += total
            if ev.coupon:
                self.coupon_orders += 1
            if self.first_order is None or ts < self.first_order:
                self.first_order = ts
            if self.last_order is None or ts > self.last_order:
                self.last_order = ts
            tau = cfg.tau_ms
            for line in ev.lines:
                self.items_bought += line.quantity
                if line.category is not None:
                    self._affinity(line.category, ORDER_AFFINITY * line.quantity, ts, tau)
        elif kind == "order_cancelled":
            self.cancellations += 1
            self.net -= total
        else:  # order_returned
            self.returns += 1
            self.net -= total
            self.returned_value += total

    # -- reads -----------------------------------------------------------------------
    def top_categories(self, n: int) -> list[tuple[str, float]]:
        """Decayed affinities at ``now`` as shares of the total, highest first."""
        if not self.aff or n <= 0:
            return []
        total = sum(self.aff.values())
        if total <= 0:
            return []
        ranked = sorted(self.aff.items(), key=lambda kv: (-kv[1], kv[0]))[:n]
        return [(c, round(v / total, 4)) for c, v in ranked]

    @property
    def frequency(self) -> int:
        """Orders that stood (placed minus cancelled)."""
        return max(self.orders - self.cancellations, 0)

    @property
    def avg_order_value(self) -> float:
        return self.gross / self.orders if self.orders else 0.0

    def recency_days(self, now: int) -> float | None:
        return None if self.last_order is None else max(now - self.last_order, 0) / DAY_MS

    def active_weeks(self) -> float:
        """Observed active span in weeks, floored at one week to tame newcomers."""
        return max((self.last_seen - self.first_seen) / (7 * DAY_MS), 1.0)

    def funnel(self) -> dict[str, float]:
        return {
            "view_to_cart": round(self.carts / self.views, 4) if self.views else 0.0,
            "cart_to_order": round(min(self.orders / self.carts, 1.0), 4) if self.carts else 0.0,
            "session_to_order": round(min(self.orders / self.sessions, 1.0), 4)
            if self.sessions
            else 0.0,
        }

    def discount_sensitivity(self) -> float:
        """Share of orders placed with a coupon."""
        return self.coupon_orders / self.orders if self.orders else 0.0
