"""Run the engine over files: JSONL in, profiles / alerts / DLQ as JSONL out."""

from insight_stream.replay.engine_loop import ReplayResult, replay_stream
from insight_stream.replay.files import merged_records

__all__ = ["ReplayResult", "merged_records", "replay_stream"]
