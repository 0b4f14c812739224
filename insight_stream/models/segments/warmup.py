"""The segment warm-up: when is there enough history to seed the centres?

A fixed count ("200 users with >= 5 sessions") never completes on a small shop,
so the target adapts to what the stream has shown so far:

* done at once when ``full`` users have at least ``sessions`` sessions;
* otherwise, once ``min_days`` of event time have passed since the first event,
  done when the mature users reach ``share`` of the users seen so far, and at
  least ``minimum`` of them.

Until then the segmenter's status is ``"warming_up"``.
"""

from __future__ import annotations

import math

from insight_stream.models.profile import DAY_MS


class WarmUp:
    """Collects the latest features of mature users until the adaptive target is met.

    Examples
    --------
    >>> w = WarmUp(full=100, sessions=3, share=0.1, minimum=2, min_days=7)
    >>> w.add("a", 5, [1.0], now=0), w.add("b", 1, [0.0], now=0)
    (False, False)
    >>> w.add("c", 4, [2.0], now=8 * DAY_MS)  # 2 mature of 3 seen, a week in
    True
    >>> w.progress()
    {'mature_users': 2, 'seen_users': 3, 'target': 2}
    """

    def __init__(
        self, full: int, sessions: int, share: float, minimum: int, min_days: float
    ) -> None:
        self.full, self.sessions, self.share = full, sessions, share
        self.minimum, self.min_days = minimum, min_days
        self.rows: dict[str, list[float]] = {}
        self.seen: set[str] = set()
        self.first_ts: int | None = None
        self.last_ts: int | None = None

    def target(self, now: int | None = None) -> int:
        """Mature users needed now (``full`` before ``min_days`` have passed)."""
        if now is None or self.first_ts is None or now - self.first_ts < self.min_days * DAY_MS:
            return self.full
        adaptive = math.ceil(self.share * len(self.seen))
        return max(self.minimum, min(self.full, adaptive))

    def add(self, user_id: str, sessions: int, row: list[float], now: int) -> bool:
        """Record one user's current state; True when the warm-up is complete."""
        if self.first_ts is None:
            self.first_ts = now
        self.last_ts = now
        self.seen.add(user_id)
        if sessions >= self.sessions:
            self.rows[user_id] = row
        return len(self.rows) >= self.target(now)

    def forget(self, user_id: str) -> None:
        """Drop an erased user's sample row and count (their identifiable contribution)."""
        self.rows.pop(user_id, None)
        self.seen.discard(user_id)

    def progress(self) -> dict[str, int]:
        """``{"mature_users", "seen_users", "target"}`` at the latest event seen."""
        return {
            "mature_users": len(self.rows),
            "seen_users": len(self.seen),
            "target": self.target(self.last_ts),
        }
