"""Simulator settings: one frozen, validated value so a shop is fully named by its config."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime

_DAY_MS = 86_400_000


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

    def __post_init__(self) -> None:
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

    def window_ms(self) -> tuple[int, int]:
        """Event-time window ``[start, end)`` in epoch milliseconds (UTC midnight)."""
        start = datetime.strptime(self.start, "%Y-%m-%d").replace(tzinfo=UTC)
        start_ms = int(start.timestamp()) * 1000
        return start_ms, start_ms + self.days * _DAY_MS

    def to_json(self) -> dict[str, object]:
        """Plain dict of the settings (stored in ``truth.json`` for reproducibility)."""
        return asdict(self)
