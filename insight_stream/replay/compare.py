"""What a deployment published against what a replay publishes: alerts by id, the last
profile per user and DLQ counts by reason. ``insight-stream demo`` prints the comparison;
the integration tests assert it is empty."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from insight_stream.events.pseudonym import Pseudonymizer
from insight_stream.processor import EngineConfig, Processor
from insight_stream.processor.driver import Driver
from insight_stream.replay.files import DEFAULT_PARTITIONS, replay_files


@dataclass
class Published:
    """The outputs as a consumer sees them once every record is read."""

    alerts: dict[str, dict[str, Any]] = field(default_factory=dict)
    profiles: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    dlq: Counter[str] = field(default_factory=Counter)
    conflicting_alerts: list[str] = field(default_factory=list)  # same id, other content

    def add(self, topic: str, key: bytes | None, value: bytes | None, headers: Any) -> None:
        """Fold one output record in (topics are told apart by their suffix)."""
        if topic.endswith("profiles"):
            self.profiles[(key or b"").decode()] = None if value is None else orjson.loads(value)
        elif topic.endswith("alerts"):
            alert = orjson.loads(value or b"{}")
            old = self.alerts.setdefault(alert["alert_id"], alert)
            if old != alert:
                self.conflicting_alerts.append(alert["alert_id"])
        else:
            self.dlq[dict(headers or [])["error_type"].decode()] += 1


def replay_dir(
    directory: Path,
    partitions: int = DEFAULT_PARTITIONS,
    config: EngineConfig | None = None,
    now_ms: int | None = None,
    pseudonymizer: Pseudonymizer | None = None,
) -> Published:
    """``insight-stream replay`` of a directory written by ``simulate``, in memory
    (``now_ms``: the wall clock for the future-timestamp check; None = off)."""
    out = Published()
    proc = Processor(config)
    driver = Driver(proc, lambda rec: out.add(*rec), proc.config.flush_events)
    files = [directory / n for n in ("clickstream.jsonl", "orders.jsonl")]
    replay_files(
        driver,
        [f for f in files if f.exists()],
        partitions,
        now_ms=now_ms,
        pseudonymizer=pseudonymizer,
    )
    driver.drain(seal=False)
    return out


def differences(got: Published, want: Published) -> dict[str, Any]:
    """Empty when ``got`` holds exactly the alerts and final profiles of ``want``."""
    diff: dict[str, Any] = {}
    if got.conflicting_alerts:
        diff["alerts re-sent with other content"] = got.conflicting_alerts[:5]
    if got.alerts != want.alerts:
        diff["alerts"] = {
            "missing": sorted(set(want.alerts) - set(got.alerts))[:5],
            "extra": sorted(set(got.alerts) - set(want.alerts))[:5],
            "changed": [
                a for a in want.alerts if a in got.alerts and got.alerts[a] != want.alerts[a]
            ][:5],
            "counts": (len(got.alerts), len(want.alerts)),
        }
    users = [u for u in want.profiles if got.profiles.get(u) != want.profiles[u]]
    users += [u for u in got.profiles if u not in want.profiles]
    if users:
        u = users[0]
        a, b = got.profiles.get(u) or {}, want.profiles.get(u) or {}
        diff["profiles"] = {
            "users differing": len(users),
            "of": len(want.profiles),
            "example": (u, {f: (a.get(f), b.get(f)) for f in {*a, *b} if a.get(f) != b.get(f)}),
        }
    return diff
