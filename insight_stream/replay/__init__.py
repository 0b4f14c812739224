"""Run the engine over files: JSONL in, profiles / alerts / DLQ as JSONL out."""

from insight_stream.replay.files import DEFAULT_PARTITIONS, replay_files

__all__ = ["DEFAULT_PARTITIONS", "replay_files"]
