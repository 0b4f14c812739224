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
from insight_stream.events.outputs import ChurnAlert, DlqRecord, Profile, Recommendation, Segment
from insight_stream.events.timestamps import iso, to_epoch_ms

__all__ = [
    "CLICK_TYPES",
    "EVENT_ADAPTER",
    "ORDER_TYPES",
    "ChurnAlert",
    "ClickEvent",
    "ControlEvent",
    "DlqRecord",
    "Event",
    "OrderEvent",
    "OrderLine",
    "Profile",
    "Recommendation",
    "Segment",
    "decode",
    "iso",
    "to_epoch_ms",
]
