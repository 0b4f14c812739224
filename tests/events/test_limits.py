"""Input limits at decode: too_large (before parsing), too_old, future_timestamp."""

from __future__ import annotations

import base64

import orjson
import pytest

from insight_stream.events import (
    DEFAULT_LIMITS,
    NO_LIMITS,
    ClickEvent,
    DlqRecord,
    InputLimits,
    OrderEvent,
    decode,
)
from insight_stream.events.inputs import MAX_CATEGORY, MAX_ID, MAX_LINES

NOW = 1_709_287_200_000  # 2024-03-01T10:00:00Z
DAY = 86_400_000
CLICK = {"event_id": "e1", "user_id": "u1", "type": "product_view", "category": "books", "ts": NOW}


def raw(**changes: object) -> bytes:
    return orjson.dumps({**CLICK, **changes})


def test_defaults_accept_ordinary_events() -> None:
    assert isinstance(decode(raw(), limits=DEFAULT_LIMITS, now_ms=NOW), ClickEvent)
    assert isinstance(decode(raw(ts=NOW + DAY), now_ms=NOW), ClickEvent)  # skew is inclusive


@pytest.mark.parametrize("ts", [0, 5, -1, "1971-06-01T00:00:00Z", "1999-12-31T23:59:59.999Z"])
def test_too_old_names_ts_and_floor(ts: object) -> None:
    rec = decode(raw(ts=ts), "shop.clickstream", 3, 9)
    assert isinstance(rec, DlqRecord) and rec.error_type == "too_old"
    assert "before the floor 946684800000 (2000-01-01T00:00:00Z)" in rec.error
    assert (rec.partition, rec.offset, rec.raw_truncated) == (3, 9, False)
    assert base64.b64decode(rec.raw) == raw(ts=ts)


def test_floor_is_configurable_for_historical_data() -> None:
    cdnow = InputLimits(min_ts_ms=852_076_800_000)  # 1997-01-01
    assert isinstance(decode(raw(ts="1997-03-01"), limits=cdnow), ClickEvent)
    assert decode(raw(ts="1996-12-31"), limits=cdnow).error_type == "too_old"


def test_future_timestamp_needs_a_clock_and_can_be_switched_off() -> None:
    far = raw(ts="2099-01-01T00:00:00Z")
    rec = decode(far, now_ms=NOW)
    assert isinstance(rec, DlqRecord) and rec.error_type == "future_timestamp"
    assert "2099-01-01T00:00:00Z" in rec.error and "allowed skew 86400000 ms" in rec.error
    assert decode(raw(ts=NOW + DAY + 1), now_ms=NOW).error_type == "future_timestamp"
    assert isinstance(decode(far), ClickEvent)  # no clock, no check (pure replay)
    off = InputLimits(max_future_skew_ms=None)
    assert isinstance(decode(far, limits=off, now_ms=NOW), ClickEvent)
    year_9999_plus = decode(raw(ts=10**16), now_ms=NOW)  # beyond datetime: still a message
    assert (
        year_9999_plus.error_type == "future_timestamp"
        and "10000000000000000" in year_9999_plus.error
    )


def test_too_large_is_rejected_before_parsing_and_truncated() -> None:
    limits = InputLimits(max_record_bytes=100)
    big = raw(query="q" * 200)
    rec = decode(big, "t", 0, 1, b"u1", limits=limits)
    assert isinstance(rec, DlqRecord) and rec.error_type == "too_large"
    assert rec.error == f"record is {len(big)} bytes, more than the limit 100"
    assert rec.raw_truncated and base64.b64decode(rec.raw) == big[:100]
    garbage = b"\xff" * 101  # not even JSON: the size check comes first
    assert decode(garbage, limits=limits).error_type == "too_large"
    assert decode(b"x" * 10_000_000).error_type == "too_large"  # default 64 KiB


def test_the_default_record_limit_admits_ordinary_large_orders() -> None:
    lines = [{"item_id": f"i{k:05d}", "category": "garden", "price": 9.99} for k in range(300)]
    order = {
        "event_id": "e",
        "order_id": "o",
        "user_id": "u",
        "type": "order_placed",
        "lines": lines,
        "total": 2997.0,
        "ts": NOW,
    }
    assert isinstance(decode(orjson.dumps(order)), OrderEvent)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("category", "c" * (MAX_CATEGORY + 1)),
        ("item_id", "i" * (MAX_ID + 1)),
        ("session_id", "s" * (MAX_ID + 1)),
        ("query", "q" * 257),
        ("region", "r" * 65),
        ("device", "d" * 65),
    ],
)
def test_oversized_strings_are_validation_errors_naming_the_field(field: str, value: str) -> None:
    rec = decode(raw(**{field: value}), limits=NO_LIMITS)
    assert isinstance(rec, DlqRecord) and rec.error_type == "validation"
    assert field in rec.error and "at most" in rec.error


def test_order_lines_and_order_strings_are_bounded() -> None:
    line = {"item_id": "i", "price": 1.0}
    base = {
        "event_id": "e",
        "order_id": "o",
        "user_id": "u",
        "type": "order_placed",
        "total": 1.0,
        "ts": NOW,
    }
    assert isinstance(
        decode(orjson.dumps({**base, "lines": [line] * MAX_LINES}), limits=NO_LIMITS), OrderEvent
    )
    for bad in (
        {"lines": [line] * (MAX_LINES + 1)},
        {"currency": "X" * 17},
        {"coupon": "C" * 65},
        {"order_id": "o" * (MAX_ID + 1)},
    ):
        rec = decode(orjson.dumps({**base, **bad}), limits=NO_LIMITS)
        assert rec.error_type == "validation", bad
        assert next(iter(bad)) in rec.error


def test_limits_are_validated() -> None:
    with pytest.raises(ValueError, match="max_record_bytes"):
        InputLimits(max_record_bytes=0)
    with pytest.raises(ValueError, match="max_future_skew_ms"):
        InputLimits(max_future_skew_ms=-1)
