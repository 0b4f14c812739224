"""Fuzz: >= 10,000 hostile records mixed into an honest stream change nothing.

Each record goes through ``decode`` (with input limits and a wall clock) and
``Processor.process`` (late policy ``dlq``). Every record must end up folded,
DLQ'd by decode, refused with ``RejectedEvent`` or absorbed as a duplicate;
nothing else may raise; and the engine's state (every user and the shared
models) must equal that of the honest-only run, byte for byte.
"""

from __future__ import annotations

import pickle
from collections import Counter
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from insight_stream.events import ControlEvent, DlqRecord, InputLimits, decode
from insight_stream.events.inputs import MAX_LINES
from insight_stream.events.limits import DAY_MS, MIN_TS_2000
from insight_stream.processor import EngineConfig, Processor, RejectedEvent
from insight_stream.sim import Shop, SimConfig

HOUR = 3_600_000
LIMITS = InputLimits()  # production defaults: floor 2000, 1 day skew, 64 KiB
CONFIG = EngineConfig(allowed_lateness_ms=HOUR, late_policy="dlq")
EXAMPLES, BATCH = 42, 250  # 42 x >= 250 = >= 10,500 hostile records
KINDS = (
    "duplicate",
    "late",
    "far_future",
    "far_past",
    "huge_string",
    "huge_record",
    "too_many_lines",
    "wrong_type",
    "truncated",
    "random_bytes",
)
WRONG = (  # fields every event has
    ("ts", "last tuesday"),
    ("ts", [2024, 1, 1]),
    ("ts", True),
    ("ts", {"ms": 1}),
    ("user_id", 42),
    ("user_id", None),
    ("event_id", ""),
    ("type", "purchase"),
)
WRONG_CLICK = (("price", "cheap"), ("price", -1.0), ("session_id", 5), ("category", ["a"]))
WRONG_ORDER = (("total", -5.0), ("lines", "many"), ("order_id", None), ("currency", 3))


class Honest:
    """The honest stream, its outcome alone, and what each position looks like."""

    def __init__(self) -> None:
        self.records = list(Shop(SimConfig(users=100, days=30, seed=5)).events())
        self.dicts = [orjson.loads(raw) for _, raw in self.records]
        self.max_ts: list[int] = []
        high = 0
        for topic, raw in self.records:
            ev = decode(raw, topic, limits=LIMITS)
            assert not isinstance(ev, DlqRecord | ControlEvent)
            high = max(high, ev.ts)
            self.max_ts.append(high)
        self.now_ms = high  # the wall clock: the newest honest event
        self.expected = state(run(self, self.records)[0])


def run(h: Honest, records: list[tuple[str, bytes]]) -> tuple[Processor, Counter[str]]:
    proc = Processor(CONFIG)
    seen: Counter[str] = Counter()
    for topic, raw in records:
        ev = decode(raw, topic, limits=LIMITS, now_ms=h.now_ms)
        if isinstance(ev, DlqRecord):
            seen["dlq:" + ev.error_type] += 1
            continue
        try:
            proc.process(ev)
        except RejectedEvent as exc:
            seen["rejected:" + exc.reason] += 1
    proc.drain()
    return proc, seen


def state(proc: Processor) -> tuple[Any, ...]:
    """Everything the engine holds, less the counters of refused input (they must move)."""
    users = {uid: pickle.dumps(u) for uid, u in sorted(proc.users.items())}
    shared = pickle.loads(proc.checkpoint().shared[1:])
    del shared["hostile"]
    return users, proc.stream_time, proc.events, pickle.dumps(shared)


def hostile(h: Honest, kind: str, pos: int, n: int, blob: bytes) -> tuple[int, bytes]:
    """``(insert after honest position, raw)`` for one hostile record."""
    base = dict(h.dicts[pos])
    is_order = "order_id" in base
    if kind == "duplicate":  # a re-send arrives within the user's next few events
        return min(pos + n % 4, len(h.records) - 1), h.records[pos][1]
    if kind == "late":
        base["event_id"] = f"late-{pos}-{n}"
        base["ts"] = h.max_ts[pos] - 2 * HOUR - n % (30 * DAY_MS)
    elif kind == "far_future":
        base["ts"] = f"{2100 + n % 7000}-01-01T00:00:00Z" if n % 2 else h.now_ms + DAY_MS + 1 + n
    elif kind == "far_past":
        base["ts"] = (
            (-(n % 10**13) if n % 3 == 0 else n % 946_684_800)
            if n % 2
            else 10**11 + n % (MIN_TS_2000 - 10**11)
        )
    elif kind == "huge_string":
        fields = (
            ("event_id", "user_id", "order_id", "currency", "coupon")
            if is_order
            else ("event_id", "user_id", "session_id", "item_id", "category", "query", "region")
        )
        base[fields[n % len(fields)]] = "x" * (257 + n % 200_000)
    elif kind == "huge_record":  # schema-valid (unknown fields are ignored) but 64 KiB+
        base["padding"] = "p" * (LIMITS.max_record_bytes + n % 100_000)
    elif kind == "too_many_lines":
        line = {"item_id": "i1", "price": 1.0}
        base = {**base, "type": "order_placed", "order_id": "o", "total": 1.0}
        base["lines"] = [line] * (MAX_LINES + 1 + n % 100)
    elif kind == "wrong_type":
        choices = WRONG + (WRONG_ORDER if is_order else WRONG_CLICK)
        field, value = choices[n % len(choices)]
        base[field] = value
    elif kind == "truncated":
        raw = h.records[pos][1]
        return pos, raw[: 1 + n % (len(raw) - 1)]
    else:  # random bytes: \xff is never valid UTF-8, so never an event
        return pos, b"\xff" + blob
    return pos, orjson.dumps(base)


@pytest.fixture(scope="module")
def honest() -> Honest:
    return Honest()


def test_hostile_records_are_all_accounted_for_and_change_no_state(honest: Honest) -> None:
    h = honest
    total: Counter[str] = Counter()
    spec = st.tuples(
        st.sampled_from(KINDS),
        st.integers(0, len(h.records) - 1),
        st.integers(0, 10**15),
        st.binary(max_size=24),
    )

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.lists(spec, min_size=BATCH, max_size=BATCH + 20))
    def mixed_run(specs: list[tuple[str, int, int, bytes]]) -> None:
        inserts: dict[int, list[bytes]] = {}
        kinds = Counter(kind for kind, *_ in specs)
        for kind, pos, n, blob in specs:
            at, raw = hostile(h, kind, pos, n, blob)
            inserts.setdefault(at, []).append(raw)
        records: list[tuple[str, bytes]] = []
        for i, rec in enumerate(h.records):
            records.append(rec)
            records.extend((rec[0], raw) for raw in inserts.get(i, ()))
        proc, seen = run(h, records)
        # every record is accounted for: honest ones folded, hostile ones refused or absorbed
        refused = sum(seen.values())
        assert proc.events == len(h.records)
        assert refused + proc.duplicates == len(specs), (seen, proc.duplicates, kinds)
        assert proc.duplicates == kinds["duplicate"]
        assert seen["rejected:late"] == kinds["late"]
        assert seen["dlq:future_timestamp"] == kinds["far_future"]
        assert seen["dlq:too_old"] == kinds["far_past"]
        assert seen["dlq:too_large"] >= kinds["huge_record"]
        # and none of them left a trace
        assert state(proc) == h.expected
        total.update(kinds)
        total["records"] += len(specs)

    mixed_run()
    assert total["records"] >= 10_000, total
    assert all(total[k] > 500 for k in KINDS), total
