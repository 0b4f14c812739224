"""The pure, event-time engine: decoded events in, profiles and alerts out. No Kafka here."""

from insight_stream.processor.config import LATE_POLICIES, EngineConfig
from insight_stream.processor.errors import RejectedEvent
from insight_stream.processor.processor import Checkpoint, EngineStats, Processor
from insight_stream.processor.publish import Outputs

__all__ = [
    "LATE_POLICIES",
    "Checkpoint",
    "EngineConfig",
    "EngineStats",
    "Outputs",
    "Processor",
    "RejectedEvent",
]
