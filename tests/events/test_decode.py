import base64
import json

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from insight_stream.events import ClickEvent, DlqRecord, OrderEvent, decode

GOOD_CLICK = {
    "event_id": "e1",
    "user_id": "u1",
    "session_id": "s1",
    "type": "add_to_cart",
    "item_id": "i1",
    "category": "books",
    "price": 12.5,
    "ts": "2024-03-01T10:00:00Z",
}
GOOD_ORDER = {
    "event_id": "e2",
    "order_id": "o1",
    "user_id": "u1",
    "type": "order_placed",
    "lines": [{"item_id": "i1", "category": "books", "price": 12.5, "quantity": 2}],
    "total": 25.0,
    "currency": "EUR",
    "coupon": "SPRING",
    "ts": 1709287200000,
}


def test_round_trip_click_and_order():
    click = decode(orjson.dumps(GOOD_CLICK))
    assert isinstance(click, ClickEvent)
    assert click.ts == 1709287200000  # ISO normalised to epoch ms
    order = decode(orjson.dumps(GOOD_ORDER))
    assert isinstance(order, OrderEvent)
    assert order.lines[0].quantity == 2
    again = decode(orjson.dumps(order.model_dump()))
    assert again == order


def test_unknown_fields_are_tolerated():
    ev = decode(orjson.dumps({**GOOD_CLICK, "brand_new_field": {"x": 1}}))
    assert isinstance(ev, ClickEvent)


def test_validation_error_names_field_and_keeps_raw_bytes():
    raw = orjson.dumps({**GOOD_ORDER, "total": -3})
    rec = decode(raw, "shop.orders", 2, 41, b"u1")
    assert isinstance(rec, DlqRecord)
    assert rec.error_type == "validation"
    assert "total" in rec.error and "greater than or equal" in rec.error
    assert base64.b64decode(rec.raw) == raw
    assert (rec.source_topic, rec.partition, rec.offset, rec.key) == ("shop.orders", 2, 41, "u1")


def test_bad_json_and_bad_timestamp():
    assert decode(b'{"event_id": ').error_type == "decode"
    rec = decode(orjson.dumps({**GOOD_CLICK, "ts": "yesterday"}))
    assert isinstance(rec, DlqRecord) and "ts" in rec.error


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_never_raise(raw):
    rec = decode(raw, "t", 0, 0)
    assert isinstance(rec, DlqRecord | ClickEvent | OrderEvent) or rec.type == "user_erased"
    if isinstance(rec, DlqRecord):
        assert base64.b64decode(rec.raw) == raw
        assert rec.error


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=10,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(list(GOOD_ORDER) + list(GOOD_CLICK)), json_values))
def test_garbage_objects_land_in_dlq_with_reason(obj):
    raw = json.dumps(obj).encode()
    rec = decode(raw)
    if isinstance(rec, DlqRecord):
        assert rec.error_type in {"decode", "validation"}
        assert base64.b64decode(rec.raw) == raw
    else:  # only a structurally valid event may pass
        assert rec.event_id and rec.user_id and isinstance(rec.ts, int)
