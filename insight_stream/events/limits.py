"""Input limits: what a record may look like before it is allowed to touch state.

A record that parses but cannot be true (a clock in 1971 or 2099, a megabyte of
JSON) must never move stream time or bloat state; :func:`~insight_stream.events.decode`
sends it to the DLQ with its reason instead. The limits are data, not constants,
because historical datasets (CDNOW is 1997) need a lower floor.
"""

from __future__ import annotations

from dataclasses import dataclass

DAY_MS = 86_400_000
MIN_TS_2000 = 946_684_800_000  # 2000-01-01T00:00:00Z


@dataclass(frozen=True, slots=True)
class InputLimits:
    """Bounds checked by ``decode`` on every record (each costs one comparison).

    Parameters
    ----------
    min_ts_ms
        Event times before this (epoch ms) are rejected as ``too_old``: a zeroed or
        seconds-for-milliseconds clock would otherwise age every customer at once.
    max_future_skew_ms
        Event times more than this ahead of the wall clock (``now_ms`` given to
        ``decode``) are rejected as ``future_timestamp``: one such event would move
        stream time ahead and fire every inactivity timer. ``None`` = no check.
    max_record_bytes
        Raw records longer than this are rejected as ``too_large`` before parsing
        (cheap), and their DLQ copy is truncated to this many bytes.

    >>> InputLimits().max_record_bytes
    65536
    >>> InputLimits(min_ts_ms=0, max_future_skew_ms=None).max_future_skew_ms is None
    True
    >>> InputLimits(max_record_bytes=0)
    Traceback (most recent call last):
    ...
    ValueError: limits.max_record_bytes must be >= 1, got 0
    """

    min_ts_ms: int = MIN_TS_2000
    max_future_skew_ms: int | None = DAY_MS
    max_record_bytes: int = 65_536

    def __post_init__(self) -> None:
        if self.max_record_bytes < 1:
            raise ValueError(f"limits.max_record_bytes must be >= 1, got {self.max_record_bytes}")
        if self.max_future_skew_ms is not None and self.max_future_skew_ms < 0:
            raise ValueError(
                f"limits.max_future_skew_ms must be >= 0 or None, got {self.max_future_skew_ms}"
            )


DEFAULT_LIMITS = InputLimits()
"""Production defaults: events since 2000, at most one day ahead of the clock, 64 KiB."""

NO_LIMITS = InputLimits(min_ts_ms=-(1 << 62), max_future_skew_ms=None, max_record_bytes=1 << 62)
"""Checks off (tests and trusted historical files)."""
