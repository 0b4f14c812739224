"""Corrupting records on purpose, so the dead-letter path is exercised with realistic junk.

Every kind yields bytes that ``insight_stream.events.decode`` must reject; the
bytes stay valid UTF-8 without newlines, so a JSON-lines file of them is still
readable line by line (in text or binary mode).
"""

from __future__ import annotations

import random

import orjson

KINDS: tuple[str, ...] = (
    "bad_json",
    "missing_field",
    "wrong_type",
    "negative_price",
    "unknown_type",
)
"""The kinds of malformed record, chosen uniformly."""

_WRONG_TYPES: tuple[tuple[str, object], ...] = (
    ("ts", "last tuesday"),
    ("user_id", 42),
    ("event_id", None),
    ("ts", [2024, 1, 1]),
)


def corrupt(event: dict, rng: random.Random) -> tuple[str, bytes]:
    """Return ``(kind, raw)``: a broken version of ``event`` (which is not modified).

    >>> from insight_stream.events import DlqRecord, decode
    >>> ev = {"event_id": "e1", "user_id": "u1", "type": "login", "ts": 1704067200000}
    >>> rng = random.Random(0)
    >>> all(isinstance(decode(corrupt(ev, rng)[1]), DlqRecord) for _ in range(50))
    True
    """
    kind = KINDS[int(rng.random() * len(KINDS))]
    bad = dict(event)
    if kind == "bad_json":
        raw = orjson.dumps(bad)
        cut = 1 + int(rng.random() * (len(raw) - 2))
        return kind, raw[:cut] if rng.random() < 0.7 else raw.replace(b'":', b'" ', 1)
    if kind == "missing_field":
        del bad[("ts", "user_id", "event_id")[int(rng.random() * 3)]]
    elif kind == "wrong_type":
        field, value = _WRONG_TYPES[int(rng.random() * len(_WRONG_TYPES))]
        bad[field] = value
    elif kind == "negative_price":
        if "total" in bad:
            bad["total"] = -abs(bad["total"]) - 1.0
        else:
            bad["price"] = -abs(bad.get("price") or 0.0) - 1.0
    else:
        bad["type"] = ("purchase_intent", "page_veiw", "ORDER_PLACED")[int(rng.random() * 3)]
    return kind, orjson.dumps(bad)
