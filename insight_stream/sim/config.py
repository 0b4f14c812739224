"""Simulator settings: one frozen, validated value so a shop is fully named by its config."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime

_DAY_MS = 86_400_000
COMPLEMENT_MODES: dict[str, tuple[float, float, float]] = {
    "mixed": (0.65, 0.5, 0.3),
    "basket": (0.8, 0.0, 0.3),
    "later": (0.0, 0.9, 0.0),
}
"""Complement mode -> (same-basket buy, later follow-up, co-view) probabilities; ``mixed``
is the values of :mod:`insight_stream.sim.sessions` (today's shop)."""


@dataclass(frozen=True)
class SimConfig:
    """Size, time window and noise of a simulated shop.

    The same config (seed included) always yields byte-identical events, so a
    simulated shop can stand in for a fixture in tests and evaluations.

    Parameters
    ----------
    users
        Number of customers; they sign up over the first part of the window.
    days
        Length of the event-time window in days.
    seed
        Seed of every random choice (catalog, customers, behaviour, noise).
    malformed_rate
        Share of records replaced by malformed ones (for the dead-letter path).
    start
        First day of the window, ``YYYY-MM-DD`` (UTC).
    items
        Catalog size.
    categories
        Number of product categories (at most 20).
    demographics_share
        Share of users whose click events carry demographics.
    iso_ts_share
        Share of valid records whose ``ts`` is an ISO-8601 string instead of epoch ms.
    world
        Name of the world preset this config came from (a label, see
        :mod:`insight_stream.sim.worlds`).
    n_types
        Number of latent customer types, 3-8 (the first ``n`` of
        :data:`~insight_stream.sim.types.ALL_TYPES`).
    complements
        How complementary items are bought: ``"mixed"`` (today's shop: mostly in the
        same basket, else as a follow-up order), ``"basket"`` (same basket only) or
        ``"later"`` (only in a later order, never co-viewed or co-bought in one session).
    complement_lag_days
        ``(low, high)``: a follow-up complement falls due uniformly this many days
        after the purchase that triggered it.
    churn
        ``"abrupt"``: churners stop dead at their churn time; ``"gradual"``: from their
        churn time their visit rate declines linearly to nothing over ``churn_fade_days``.
    churn_fade_days
        Length of the fade of a gradual churner.
    catalogue
        ``"general"`` (today's shop), ``"grocery"`` (repeat-heavy: many staples rebought
        often, concentrated best sellers) or ``"fashion"`` (discovery-heavy: few staples,
        flat popularity, more returns).
    churn_bias
        ``(attribute, group, share)``: a planted unfairness. Users whose demographics
        have ``attribute == group`` and who would not churn churn anyway with probability
        ``share`` (drawn from a stream of their own, so everyone else is unchanged).
        ``None``: no group churns differently.
    shock_day
        A planted drift: from this day on (event time, counted from ``start``) every
        customer's taste moves to another type's categories and new staples. ``None``:
        tastes never change.

    Examples
    --------
    >>> SimConfig(users=10, days=7).window_ms()
    (1704067200000, 1704672000000)
    >>> SimConfig(users=0)
    Traceback (most recent call last):
    ...
    ValueError: users must be a positive integer, got 0
    """

    users: int = 3000
    days: int = 120
    seed: int = 7
    malformed_rate: float = 0.0
    start: str = "2024-01-01"
    items: int = 1200
    categories: int = 16
    demographics_share: float = 0.6
    iso_ts_share: float = 0.1
    world: str = "default"
    n_types: int = 5
    complements: str = "mixed"
    complement_lag_days: tuple[float, float] = (2.0, 14.0)
    churn: str = "abrupt"
    churn_fade_days: float = 42.0
    catalogue: str = "general"
    churn_bias: tuple[str, str, float] | None = None
    shock_day: int | None = None

    def __post_init__(self) -> None:
        self._check_world()
        for name, low in (("users", 1), ("days", 1), ("items", 20), ("categories", 2)):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < low:
                hint = "a positive integer" if low == 1 else f"an integer >= {low}"
                raise ValueError(f"{name} must be {hint}, got {value!r}")
        if self.categories > 20:
            raise ValueError(f"categories must be at most 20, got {self.categories}")
        if self.items < 3 * self.categories:
            raise ValueError(
                f"items must be at least 3 per category ({3 * self.categories}), got {self.items}"
            )
        if not isinstance(self.seed, int) or isinstance(self.seed, bool):
            raise ValueError(f"seed must be an integer, got {self.seed!r}")
        for name, high in (
            ("malformed_rate", 0.5),
            ("demographics_share", 1.0),
            ("iso_ts_share", 1.0),
        ):
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not 0 <= value <= high
            ):
                raise ValueError(f"{name} must be a number in [0, {high}], got {value!r}")
        try:
            datetime.strptime(self.start, "%Y-%m-%d")
        except (TypeError, ValueError):
            raise ValueError(f"start must be a date YYYY-MM-DD, got {self.start!r}") from None

    def _check_world(self) -> None:
        n = self.n_types
        if not isinstance(n, int) or isinstance(n, bool) or not 3 <= n <= 8:
            raise ValueError(f"n_types must be an integer in [3, 8], got {n!r}")
        for name, allowed in (
            ("complements", COMPLEMENT_MODES),
            ("churn", ("abrupt", "gradual")),
            ("catalogue", ("general", "grocery", "fashion")),
        ):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {getattr(self, name)!r}")
        lag = self.complement_lag_days
        ok = isinstance(lag, tuple | list) and len(lag) == 2
        ok = ok and all(isinstance(v, int | float) and not isinstance(v, bool) for v in lag)
        if not ok or not 0 < lag[0] <= lag[1] <= 30:
            raise ValueError(
                f"complement_lag_days must be (low, high) with 0 < low <= high <= 30, got {lag!r}"
            )
        fade = self.churn_fade_days
        if isinstance(fade, bool) or not isinstance(fade, int | float) or not 1 <= fade <= 120:
            raise ValueError(f"churn_fade_days must be a number in [1, 120], got {fade!r}")
        bias = self.churn_bias
        if bias is not None and not (
            isinstance(bias, tuple | list)
            and len(bias) == 3
            and all(isinstance(v, str) for v in bias[:2])
            and isinstance(bias[2], int | float)
            and 0 < bias[2] <= 1
        ):
            raise ValueError(
                f"churn_bias must be (attribute, group, share in (0, 1]), got {bias!r}"
            )
        shock = self.shock_day
        if shock is not None and (
            not isinstance(shock, int) or isinstance(shock, bool) or shock < 1
        ):
            raise ValueError(f"shock_day must be a positive integer, got {shock!r}")
        if not isinstance(self.world, str) or not self.world:
            raise ValueError(f"world must be a non-empty name, got {self.world!r}")

    def complement_params(self) -> tuple[float, float, float]:
        """``(buy in the same basket, follow-up later, co-view)`` probabilities.

        >>> SimConfig().complement_params()
        (0.65, 0.5, 0.3)
        >>> SimConfig(complements="later").complement_params()
        (0.0, 0.9, 0.0)
        """
        return COMPLEMENT_MODES[self.complements]

    def window_ms(self) -> tuple[int, int]:
        """Event-time window ``[start, end)`` in epoch milliseconds (UTC midnight)."""
        start = datetime.strptime(self.start, "%Y-%m-%d").replace(tzinfo=UTC)
        start_ms = int(start.timestamp()) * 1000
        return start_ms, start_ms + self.days * _DAY_MS

    def to_json(self) -> dict[str, object]:
        """Plain dict of the settings (stored in ``truth.json`` for reproducibility)."""
        out = asdict(self)
        out["complement_lag_days"] = list(self.complement_lag_days)
        for name in ("churn_bias", "shock_day"):  # absent when unset: truth.json as before
            if out[name] is None:
                del out[name]
        if self.churn_bias is not None:
            out["churn_bias"] = list(self.churn_bias)
        return out
