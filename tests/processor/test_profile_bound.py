"""No published profile can exceed MAX_PROFILE_BYTES, whatever valid input it is built from."""

from __future__ import annotations

import orjson

from insight_stream.events import EVENT_ADAPTER, Event
from insight_stream.events.inputs import (
    MAX_ATTRIBUTE,
    MAX_CATEGORY,
    MAX_COUPON,
    MAX_CURRENCY,
    MAX_ID,
    MAX_LINES,
    MAX_QUERY,
)
from insight_stream.events.outputs import MAX_PROFILE_BYTES
from insight_stream.processor import Processor

T0 = 1_704_067_200_000
HOUR = 3_600_000


def pad(prefix: str, n: int, fill: str) -> str:
    """A maximal string: unique prefix, then ``fill`` (worst case for JSON bytes)."""
    return (prefix + fill * n)[:n]


def adversarial_events(fill: str, users: int = 8, items: int = 400) -> list[Event]:
    """Maximal strings everywhere, many categories and items, big orders, every demographic."""
    item = [pad(f"i{k}-", MAX_ID, fill) for k in range(items)]
    cats = [pad(f"c{k}-", MAX_CATEGORY, fill) for k in range(20)]
    demo = {f: pad(f, MAX_ATTRIBUTE, fill) for f in ("age_band", "gender", "region", "device")}
    raw: list[dict] = []
    ts = T0
    for day in range(40):
        for n in range(users):
            uid = pad(f"u{n}-", MAX_ID, fill)
            sid = pad(f"s{day}-{n}-", MAX_ID, fill)
            for k in range(12):
                ts += 1000
                raw.append(
                    dict(
                        event_id=pad(f"e{ts}-{n}-", MAX_ID, fill),
                        user_id=uid,
                        session_id=sid,
                        type=("product_view", "search", "add_to_cart")[k % 3],
                        item_id=item[(day * 13 + n * 5 + k) % items],
                        category=cats[(day + n + k) % len(cats)],
                        price=1e9,
                        query=pad("q", MAX_QUERY, fill),
                        channel=pad("ch", MAX_ATTRIBUTE, fill),
                        ts=ts,
                        **demo,
                    )
                )
            if day % 3 == n % 3:
                ts += 1000
                n_lines = MAX_LINES if day == n else 6  # one huge order, co-occurrence elsewhere
                lines = [
                    dict(
                        item_id=item[(day * 13 + n * 5 + j * 7) % items],
                        category=cats[j % len(cats)],
                        price=1e6,
                        quantity=100_000,
                    )
                    for j in range(n_lines)
                ]
                raw.append(
                    dict(
                        event_id=pad(f"o{ts}-{n}-", MAX_ID, fill),
                        order_id=pad(f"o{ts}-{n}", MAX_ID, fill),
                        user_id=uid,
                        type="order_placed",
                        lines=lines,
                        total=1e12,
                        currency=pad("X", MAX_CURRENCY, fill),
                        coupon=pad("C", MAX_COUPON, fill),
                        ts=ts,
                    )
                )
        ts += 20 * HOUR
    return [EVENT_ADAPTER.validate_python(r) for r in raw]


def largest_profile(events: list[Event]) -> int:
    proc = Processor()
    largest = 0
    for i, ev in enumerate(events):
        proc.process(ev)
        if i % 500 == 0:
            for prof in proc.drain().profiles.values():
                largest = max(largest, len(orjson.dumps(prof)))
    proc.advance_time(events[-1].ts + 200 * 24 * HOUR)  # inactivity timers re-publish
    for prof in proc.drain().profiles.values():
        largest = max(largest, len(orjson.dumps(prof)))
    return largest


def test_no_profile_exceeds_the_stated_bound() -> None:
    # "\x01" is 1 character but 6 bytes of JSON; "😀" is 4 bytes of UTF-8.
    sizes = {fill: largest_profile(adversarial_events(fill)) for fill in ("\x01", "😀", "x")}
    assert max(sizes.values()) <= MAX_PROFILE_BYTES, sizes
    assert sizes["\x01"] > MAX_PROFILE_BYTES // 4, sizes  # the input really was adversarial
