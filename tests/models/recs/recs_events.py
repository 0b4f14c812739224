"""Event builders shared by the recommendation tests (imported by name: unique module)."""

from __future__ import annotations

import itertools

from insight_stream.events import ClickEvent, OrderEvent, OrderLine

DAY = 86_400_000
T0 = 1_700_000_000_000  # test times are offsets from here (small ints would read as seconds)

_ids = itertools.count()


def make_order(
    user: str,
    items: list[str],
    ts: int,
    type: str = "order_placed",
    categories: dict[str, str] | None = None,
) -> OrderEvent:
    """An order of ``items`` at ``T0 + ts``; ``categories`` maps items to their category."""
    cats = categories or {}
    n = next(_ids)
    return OrderEvent(
        event_id=f"e{n}",
        user_id=user,
        type=type,
        order_id=f"o{n}",
        total=float(len(items)),
        ts=T0 + ts,
        lines=[OrderLine(item_id=i, price=1.0, category=cats.get(i)) for i in items],
    )


def make_click(
    user: str, item: str, ts: int, session: str | None = "s", type: str = "product_view"
) -> ClickEvent:
    return ClickEvent(
        event_id=f"e{next(_ids)}",
        user_id=user,
        type=type,
        item_id=item,
        session_id=session,
        ts=T0 + ts,
    )
