"""Input event schema v1: clickstream, orders and control events.

Unknown fields are ignored (forward compatible). All three kinds share one
discriminated union on ``type`` so a record is validated in a single
pydantic-core call straight from JSON bytes (~3 us), whatever topic it came on.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from insight_stream.events.timestamps import EventTime

SCHEMA_VERSION = 1

ClickType = Literal[
    "page_view", "product_view", "search", "add_to_cart", "remove_from_cart", "wishlist", "login"
]
OrderType = Literal["order_placed", "order_cancelled", "order_returned"]

CLICK_TYPES: frozenset[str] = frozenset(ClickType.__args__)  # type: ignore[attr-defined]
ORDER_TYPES: frozenset[str] = frozenset(OrderType.__args__)  # type: ignore[attr-defined]

# Every string is bounded, so no valid event can bloat state or a published profile
# (tests/processor/test_profile_bound.py checks the resulting MAX_PROFILE_BYTES).
MAX_ID = 256  # event, user, session, order and item ids
MAX_CATEGORY = 128
MAX_QUERY = 256
MAX_ATTRIBUTE = 64  # demographics/context: age band, gender, region, device, channel
MAX_CURRENCY = 16
MAX_COUPON = 64
MAX_LINES = 500  # order lines per order

_Id = Annotated[str, Field(min_length=1, max_length=MAX_ID)]
_OptId = Annotated[str, Field(max_length=MAX_ID)] | None
_Category = Annotated[str, Field(max_length=MAX_CATEGORY)] | None
_Attr = Annotated[str, Field(max_length=MAX_ATTRIBUTE)] | None
_Money = Annotated[float, Field(ge=0, allow_inf_nan=False)]


class _Event(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, str_strip_whitespace=False)

    event_id: _Id
    user_id: _Id
    ts: EventTime


class ClickEvent(_Event):
    """A clickstream event: a view, search, cart change, wishlist or login."""

    type: ClickType
    session_id: _OptId = None
    item_id: _OptId = None
    category: _Category = None
    price: _Money | None = None
    query: Annotated[str, Field(max_length=MAX_QUERY)] | None = None
    age_band: _Attr = None
    gender: _Attr = None
    region: _Attr = None
    device: _Attr = None
    channel: _Attr = None


class OrderLine(BaseModel):
    """One line of an order."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    item_id: _Id
    category: _Category = None
    price: _Money
    quantity: Annotated[int, Field(ge=1, le=100_000)] = 1


class OrderEvent(_Event):
    """An order was placed, cancelled or returned (``order_id`` ties them together)."""

    type: OrderType
    order_id: _Id
    lines: list[OrderLine] = Field(default_factory=list, max_length=MAX_LINES)
    total: _Money
    currency: Annotated[str, Field(max_length=MAX_CURRENCY)] = "USD"
    coupon: Annotated[str, Field(max_length=MAX_COUPON)] | None = None


class ControlEvent(_Event):
    """Privacy erasure: forget everything the engine holds on ``user_id``."""

    type: Literal["user_erased"]


Event = ClickEvent | OrderEvent | ControlEvent

USER_ID_ADAPTER: TypeAdapter[str] = TypeAdapter(_Id)
"""The id rule every event's ``user_id`` follows (interactive queries validate with it)."""

EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(
    Annotated[ClickEvent | OrderEvent | ControlEvent, Field(discriminator="type")]
)
"""Validates any v1 input event from JSON bytes or a dict."""
