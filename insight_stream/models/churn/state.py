"""Per-user churn state: a handful of numbers, updated in O(1) per event.

Days are UTC calendar days since the epoch (``ts // DAY_MS``): orders on the same
day merge into one BG/NBD transaction, as in the paper. Decayed counts are stored
at their last update day and decayed lazily when read.
"""

from __future__ import annotations

from operator import attrgetter

DAY_MS = 86_400_000

Snapshot = tuple[int, int, int, float, float, int, int, int, float, int]
"""(first_day, last_day, x, order_decay, value, click_first_day, click_last_day,
click_days, click_decay, last_ts): the user's state at one instant."""


class ChurnUser:
    """What the churn model remembers about one customer (``-1`` = never).

    Attributes
    ----------
    first_day, last_day
        Days of the first and last purchase; BG/NBD's t_x = last_day - first_day.
    x
        Repeat transactions: distinct purchase days after the first one.
    order_decay
        Decayed count of purchase days, valued at ``last_day``.
    value
        Net spend: orders minus cancellations and returns.
    orders
        Orders placed (not merged per day).
    last_ts
        Event time of the user's latest event of any kind (the start of a silence).
    click_first_day, click_last_day, click_days, click_decay
        Browsing: first and last day with a click, distinct click days, decayed count.
    snap_epoch, snap
        Label epoch of ``snap``, the state as it was when that epoch began (taken at
        the user's first event in the epoch), for the blend's delayed labels.
    alert_armed, alert_episode, last_alert_ms
        Alert policy state: armed until alerted, re-armed below the reset threshold.

    >>> u = ChurnUser()
    >>> u.x, u.first_day, u.alert_armed
    (0, -1, True)
    """

    __slots__ = (
        "alert_armed",
        "alert_episode",
        "click_days",
        "click_decay",
        "click_first_day",
        "click_last_day",
        "first_day",
        "last_alert_ms",
        "last_day",
        "last_ts",
        "order_decay",
        "orders",
        "snap",
        "snap_epoch",
        "value",
        "x",
    )

    def __init__(self) -> None:
        self.first_day = -1
        self.last_day = -1
        self.x = 0
        self.order_decay = 0.0
        self.value = 0.0
        self.orders = 0
        self.last_ts = -1
        self.click_first_day = -1
        self.click_last_day = -1
        self.click_days = 0
        self.click_decay = 0.0
        self.snap_epoch = -1
        self.snap: Snapshot | None = None
        self.alert_armed = True
        self.alert_episode = -1
        self.last_alert_ms = -1

    def snapshot(self) -> Snapshot:
        """The state that scoring reads, as a plain tuple (cheap to keep and pickle).

        >>> ChurnUser().snapshot()
        (-1, -1, 0, 0.0, 0.0, -1, -1, 0, 0.0, -1)
        """
        return (
            self.first_day,
            self.last_day,
            self.x,
            self.order_decay,
            self.value,
            self.click_first_day,
            self.click_last_day,
            self.click_days,
            self.click_decay,
            self.last_ts,
        )

    def __getstate__(self) -> tuple:
        return _state(self)

    def __setstate__(self, state: tuple) -> None:
        (  # __slots__ order; one assignment is ~4x faster than a setattr loop (restores)
            self.alert_armed,
            self.alert_episode,
            self.click_days,
            self.click_decay,
            self.click_first_day,
            self.click_last_day,
            self.first_day,
            self.last_alert_ms,
            self.last_day,
            self.last_ts,
            self.order_decay,
            self.orders,
            self.snap,
            self.snap_epoch,
            self.value,
            self.x,
        ) = state

    def __repr__(self) -> str:
        return (
            f"ChurnUser(x={self.x}, first_day={self.first_day}, last_day={self.last_day}, "
            f"value={self.value:.2f}, click_days={self.click_days})"
        )


_state = attrgetter(*ChurnUser.__slots__)
