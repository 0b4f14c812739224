"""The pure, event-time engine: decoded events in, profiles and alerts out. No Kafka here."""

from insight_stream.processor.config import LATE_POLICIES, EngineConfig
from insight_stream.processor.contract import (
    STATE_FORMAT,
    Checkpoint,
    Engine,
    EngineStats,
    Outputs,
    StateFormatError,
)
from insight_stream.processor.errors import RejectedEvent
from insight_stream.processor.processor import Processor

__all__ = [
    "LATE_POLICIES",
    "STATE_FORMAT",
    "Checkpoint",
    "Engine",
    "EngineConfig",
    "EngineStats",
    "Outputs",
    "Processor",
    "RejectedEvent",
    "StateFormatError",
]
