"""Run == replay in the tests: the shop they use and how its outputs are read back."""

from __future__ import annotations

from pathlib import Path

from insight_stream.replay.compare import Published, differences, replay_dir
from insight_stream.runtime import reader
from insight_stream.sim import Shop, SimConfig

__all__ = ["PARITY_SHOP", "Published", "differences", "read_published", "replay_shop"]

PARITY_SHOP = SimConfig(users=600, days=90, seed=3, malformed_rate=0.01)
"""Small enough for a test, big enough that it raises churn alerts (87 in replay)."""


def replay_shop(sim: SimConfig, tmp: Path) -> Published:
    """The shop written to JSONL and replayed, as ``insight-stream replay`` does."""
    Shop(sim).write(tmp)
    return replay_dir(tmp)


def read_published(bootstrap: str, prefix: str) -> Published:
    """The outputs of a deployment whose topics are ``<prefix>.profiles|alerts|dlq``."""
    topics = [f"{prefix}.{kind}" for kind in ("profiles", "alerts", "dlq")]
    return reader.read_published(bootstrap, topics)
