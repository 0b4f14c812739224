"""Bytes -> event, or a DLQ record that says exactly why not. Never raises.

Besides schema validation, ``decode`` rejects records that parse but cannot be
true (see :class:`~insight_stream.events.limits.InputLimits`): too large (checked
before parsing, so a 10 MB record costs a ``len``), too old, or too far ahead of
the wall clock. Those never reach the engine, so they can neither move stream
time nor bloat state.
"""

from __future__ import annotations

import base64

from pydantic import ValidationError

from insight_stream.events.inputs import EVENT_ADAPTER, Event
from insight_stream.events.limits import DEFAULT_LIMITS, InputLimits
from insight_stream.events.outputs import DlqRecord
from insight_stream.events.timestamps import iso

_validate_json = EVENT_ADAPTER.validate_json


def describe_validation_error(exc: ValidationError) -> str:
    """One line naming each failing field and the problem, e.g. ``ts: Input should be ...``."""
    parts = []
    for err in exc.errors(include_url=False)[:5]:
        loc = ".".join(str(p) for p in err.get("loc", ())) or "<record>"
        parts.append(f"{loc}: {err.get('msg', 'invalid')}")
    more = exc.error_count() - len(parts)
    if more > 0:
        parts.append(f"(+{more} more)")
    return "; ".join(parts)


def _when(ms: int) -> str:
    """``ms`` with its ISO form when it has one (years 1..9999)."""
    try:
        return f"{ms} ({iso(ms)})"
    except (ValueError, OverflowError, OSError):
        return str(ms)


def decode(
    raw: bytes | None,
    source_topic: str = "",
    partition: int | None = None,
    offset: int | None = None,
    key: bytes | None = None,
    *,
    limits: InputLimits = DEFAULT_LIMITS,
    now_ms: int | None = None,
) -> Event | DlqRecord:
    """Validate one raw record against the schema and ``limits``.

    Returns the typed event, or a :class:`DlqRecord` carrying the raw bytes
    (base64; truncated to ``limits.max_record_bytes`` for ``too_large``, flagged by
    ``raw_truncated``) and a message naming the field and the problem. ``now_ms``
    is the wall clock, used only for the future-timestamp check (None = no check).
    ``error_type`` is one of ``decode``, ``validation``, ``too_large``, ``too_old``,
    ``future_timestamp``.

    >>> decode(b'{"event_id":"e1","user_id":"u1","type":"login","ts":1700000000000}').type
    'login'
    >>> bad = decode(b'{"event_id":"e1","user_id":"u1","type":"login"}', "shop.clickstream", 0, 7)
    >>> bad.error_type, bad.error
    ('validation', 'login.ts: Field required')
    >>> decode(b"\\xff{", "t").error_type
    'decode'
    >>> old = decode(b'{"event_id":"e1","user_id":"u1","type":"login","ts":5}')
    >>> old.error_type
    'too_old'
    >>> print(old.error)
    ts 5000 (1970-01-01T00:00:05Z) is before the floor 946684800000 (2000-01-01T00:00:00Z)
    >>> decode(b'{"event_id":"e1","user_id":"u1","type":"login","ts":"2099-01-01"}',
    ...        now_ms=1700000000000).error_type
    'future_timestamp'
    >>> big = decode(b"x" * 100_000)
    >>> big.error_type, big.raw_truncated, len(big.raw) < 100_000
    ('too_large', True, True)
    """
    truncated = False
    try:
        if raw is None:
            raise ValueError("empty record (tombstone)")
        if len(raw) > limits.max_record_bytes:
            error_type = "too_large"
            message = f"record is {len(raw)} bytes, more than the limit {limits.max_record_bytes}"
            raw = raw[: limits.max_record_bytes]
            truncated = True
        else:
            ev = _validate_json(raw)
            ts = ev.ts
            if ts < limits.min_ts_ms:
                error_type = "too_old"
                message = f"ts {_when(ts)} is before the floor {_when(limits.min_ts_ms)}"
            elif (
                now_ms is not None
                and limits.max_future_skew_ms is not None
                and ts > now_ms + limits.max_future_skew_ms
            ):
                error_type = "future_timestamp"
                message = (
                    f"ts {_when(ts)} is {ts - now_ms} ms ahead of the clock {_when(now_ms)}, "
                    f"more than the allowed skew {limits.max_future_skew_ms} ms"
                )
            else:
                return ev
    except ValidationError as exc:
        kinds = {e.get("type") for e in exc.errors(include_url=False)}
        error_type = "decode" if kinds & {"json_invalid", "json_type"} else "validation"
        message = describe_validation_error(exc)
    except Exception as exc:
        error_type, message = "decode", f"{type(exc).__name__}: {exc}"
    return DlqRecord(
        source_topic=source_topic,
        partition=partition,
        offset=offset,
        error_type=error_type,
        error=message,
        raw=base64.b64encode(raw or b"").decode("ascii"),
        raw_truncated=truncated,
        key=key.decode("utf-8", "replace") if key is not None else None,
    )
