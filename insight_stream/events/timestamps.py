"""Event-time parsing: every timestamp in the engine is epoch milliseconds (int, UTC).

Producers send either ISO-8601 strings or epoch milliseconds; normalising once at
the edge keeps the models free of datetime arithmetic on the hot path.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

# Anything below this is taken as epoch seconds, not milliseconds (2001-09-09 in ms).
_SECONDS_CUTOFF = 100_000_000_000  # below: epoch seconds (until year 5138); above: ms


def to_epoch_ms(value: object) -> int:
    """Normalise an ISO-8601 string, epoch seconds/milliseconds or datetime to epoch ms.

    Naive ISO strings are taken as UTC, so a replay never depends on the host's zone.

    >>> to_epoch_ms("2024-01-01T00:00:00Z")
    1704067200000
    >>> to_epoch_ms(1704067200000)
    1704067200000
    >>> to_epoch_ms(1704067200)
    1704067200000
    >>> to_epoch_ms("2024-01-01 00:00:00")
    1704067200000
    """
    if isinstance(value, bool):
        raise ValueError("timestamp must be ISO-8601 or epoch milliseconds, not a boolean")
    if isinstance(value, int):
        return value if abs(value) >= _SECONDS_CUTOFF else value * 1000
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("timestamp must be finite")
        return int(value) if abs(value) >= _SECONDS_CUTOFF else int(value * 1000)
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("-").isdigit():
            return to_epoch_ms(int(text))
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"timestamp {value!r} is neither ISO-8601 nor epoch ms") from None
        return to_epoch_ms(parsed)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return int(value.timestamp() * 1000)
    raise ValueError(f"timestamp must be ISO-8601 or epoch ms, got {type(value).__name__}")


def iso(ms: int) -> str:
    """Format epoch milliseconds as ISO-8601 UTC.

    >>> iso(1704067200000)
    '2024-01-01T00:00:00Z'
    """
    dt = datetime.fromtimestamp(ms / 1000, tz=UTC)
    text = dt.isoformat(timespec="milliseconds" if ms % 1000 else "seconds")
    return text.replace("+00:00", "Z")


EventTime = Annotated[
    int,
    BeforeValidator(to_epoch_ms),
    PlainSerializer(lambda v: v, return_type=int),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "format": "date-time"},
                {"type": "integer", "description": "epoch milliseconds"},
            ],
            "description": "Event time: ISO-8601 (naive = UTC) or epoch milliseconds.",
        },
        mode="validation",
    ),
    WithJsonSchema(
        {"type": "integer", "description": "epoch milliseconds (UTC)"}, mode="serialization"
    ),
]
"""Pydantic field type: accepts ISO-8601 or epoch ms, stores epoch ms."""
