from __future__ import annotations

import random

from insight_stream.events import DlqRecord, decode
from insight_stream.sim.malformed import KINDS, corrupt

CLICK = {
    "event_id": "s1-0",
    "user_id": "u00001",
    "session_id": "s1",
    "type": "product_view",
    "ts": 1704067200000,
    "item_id": "i0001",
    "category": "books",
    "price": 9.99,
}
ORDER = {
    "event_id": "o1-p",
    "order_id": "o1",
    "user_id": "u00001",
    "type": "order_placed",
    "ts": 1704067200000,
    "lines": [{"item_id": "i0001", "price": 9.99, "quantity": 1}],
    "total": 9.99,
    "currency": "USD",
    "coupon": None,
}


def test_every_kind_fails_decode_and_stays_one_utf8_line() -> None:
    rng = random.Random(5)
    seen = set()
    for i in range(400):
        event = CLICK if i % 2 else ORDER
        kind, raw = corrupt(event, rng)
        seen.add(kind)
        assert isinstance(decode(raw), DlqRecord), (kind, raw)
        assert b"\n" not in raw
        raw.decode("utf-8")
    assert seen == set(KINDS)


def test_original_event_is_untouched() -> None:
    before = dict(ORDER)
    corrupt(ORDER, random.Random(1))
    assert before == ORDER
