"""The pure, event-time engine: decoded events in, profiles and alerts out. No Kafka here."""

from insight_stream.processor.config import EngineConfig
from insight_stream.processor.processor import Checkpoint, EngineStats, Processor
from insight_stream.processor.publish import Outputs

__all__ = ["Checkpoint", "EngineConfig", "EngineStats", "Outputs", "Processor"]
