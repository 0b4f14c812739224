"""Event schemas (v1), output schemas and decoding. Depends on nothing else in the package."""

from insight_stream.events.decode import decode
from insight_stream.events.inputs import (
    CLICK_TYPES,
    EVENT_ADAPTER,
    ORDER_TYPES,
    ClickEvent,
    ControlEvent,
    Event,
    OrderEvent,
    OrderLine,
)
from insight_stream.events.limits import DEFAULT_LIMITS, NO_LIMITS, InputLimits
from insight_stream.events.outputs import ChurnAlert, DlqRecord, Profile, Recommendation, Segment
from insight_stream.events.timestamps import iso, to_epoch_ms

__all__ = [
    "CLICK_TYPES",
    "DEFAULT_LIMITS",
    "EVENT_ADAPTER",
    "NO_LIMITS",
    "ORDER_TYPES",
    "ChurnAlert",
    "ClickEvent",
    "ControlEvent",
    "DlqRecord",
    "Event",
    "InputLimits",
    "OrderEvent",
    "OrderLine",
    "Profile",
    "Recommendation",
    "Segment",
    "decode",
    "iso",
    "to_epoch_ms",
]
