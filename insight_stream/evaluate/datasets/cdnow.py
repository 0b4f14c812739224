"""CDNOW purchases (Fader, Hardie & Lee 2005) as v1 ``OrderEvent``s.

The files ship in the PyPI package ``lifetimes==0.11.3`` (the project's ``eval``
extra); they are read with :mod:`importlib.resources`, not with lifetimes' code.
Both cover the cohort that first bought in Q1 1997, from 1997-01-01 to 1998-06-30:

* ``sample``: 1/10 sample, 6,919 rows, 2,357 customers
  (master id, sample id, YYYYMMDD, CDs, dollars);
* ``master``: the full cohort, 69,659 rows, 23,570 customers (id, YYYYMMDD, CDs, dollars).
"""

from __future__ import annotations

import importlib.resources
from collections.abc import Iterator
from datetime import date
from typing import Literal, NamedTuple

from insight_stream.events import OrderEvent, OrderLine
from insight_stream.events.timestamps import to_epoch_ms

Which = Literal["sample", "master"]
FILES: dict[str, str] = {"sample": "CDNOW_sample.txt", "master": "CDNOW_master.txt"}


class Purchase(NamedTuple):
    """One row: a customer's purchase on a day (several rows may share a day)."""

    customer: str
    day: date
    cds: int
    value: float


def read(which: Which = "sample") -> list[Purchase]:
    """All rows of one CDNOW file, in file order (header lines skipped).

    Raises ``ModuleNotFoundError`` when ``lifetimes`` is not installed.

    >>> rows = read("sample")
    >>> len(rows), len({r.customer for r in rows})
    (6919, 2357)
    """
    path = importlib.resources.files("lifetimes") / "datasets" / FILES[which]
    rows: list[Purchase] = []
    for line in path.read_text().splitlines():
        fields = line.split()
        if not fields or not fields[0].isdigit():
            continue
        customer, stamp, cds, value = (fields[0], *fields[-3:])
        day = date(int(stamp[:4]), int(stamp[4:6]), int(stamp[6:8]))
        rows.append(Purchase(str(int(customer)), day, int(cds), float(value)))
    return rows


def day_ms(day: date) -> int:
    """Midnight UTC of ``day`` in epoch ms (CDNOW has dates, no times).

    >>> day_ms(date(1997, 1, 1))
    852076800000
    """
    return to_epoch_ms(day.isoformat())


def to_events(rows: list[Purchase], which: str = "sample") -> Iterator[OrderEvent]:
    """``order_placed`` events in event-time order (ties kept in file order).

    One line per row: quantity = CDs, price = dollars per CD (the row total when
    no CD count is given); ``order_id`` and ``event_id`` are the row number.

    >>> rows = [Purchase("4", date(1997, 1, 18), 2, 29.73),
    ...         Purchase("4", date(1997, 1, 1), 2, 29.33)]
    >>> [(e.user_id, e.ts, e.total, e.lines[0].quantity) for e in to_events(rows)]
    [('4', 852076800000, 29.33, 2), ('4', 853545600000, 29.73, 2)]
    """
    order = sorted(range(len(rows)), key=lambda i: (rows[i].day, i))
    for i in order:
        row = rows[i]
        qty = max(row.cds, 1)
        price = row.value / row.cds if row.cds > 0 else row.value
        yield OrderEvent(
            event_id=f"cdnow-{which}-{i}",
            order_id=f"cdnow-{which}-{i}",
            user_id=row.customer,
            type="order_placed",
            lines=[OrderLine(item_id="cd", category="music", price=price, quantity=qty)],
            total=row.value,
            ts=day_ms(row.day),
        )
