"""Bytes -> event, or a DLQ record that says exactly why not. Never raises."""

from __future__ import annotations

import base64

from pydantic import ValidationError

from insight_stream.events.inputs import EVENT_ADAPTER, Event
from insight_stream.events.outputs import DlqRecord

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


def decode(
    raw: bytes | None,
    source_topic: str = "",
    partition: int | None = None,
    offset: int | None = None,
    key: bytes | None = None,
) -> Event | DlqRecord:
    """Validate one raw record.

    Returns the typed event, or a :class:`DlqRecord` carrying the raw bytes
    (base64) and a message naming the field and the problem.

    >>> decode(b'{"event_id":"e1","user_id":"u1","type":"login","ts":1700000000000}').type
    'login'
    >>> bad = decode(b'{"event_id":"e1","user_id":"u1","type":"login"}', "shop.clickstream", 0, 7)
    >>> bad.error_type, bad.error
    ('validation', 'login.ts: Field required')
    >>> decode(b"\\xff{", "t").error_type
    'decode'
    """
    try:
        if raw is None:
            raise ValueError("empty record (tombstone)")
        return _validate_json(raw)
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
        key=key.decode("utf-8", "replace") if key is not None else None,
    )
