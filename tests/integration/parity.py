"""Run == replay: the expected outputs of a shop from an in-process replay, and the comparison
with what ``insight-stream run`` published (alerts by id, the last profile per user)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from insight_stream.processor import Processor
from insight_stream.processor.driver import Driver
from insight_stream.replay import replay_files
from insight_stream.runtime.reader import read_topic
from insight_stream.sim import Shop, SimConfig

PARITY_SHOP = SimConfig(users=600, days=90, seed=3, malformed_rate=0.01)
"""Small enough for a test, big enough that it raises churn alerts (87 in replay)."""


@dataclass
class Published:
    """What one deployment (or a replay) published."""

    alerts: dict[str, dict[str, Any]] = field(default_factory=dict)
    profiles: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    dlq: Counter[str] = field(default_factory=Counter)
    conflicting_alerts: list[str] = field(default_factory=list)  # same id, other content

    def add(self, topic: str, key: bytes | None, value: bytes | None, headers: Any) -> None:
        if topic.endswith("profiles"):
            self.profiles[(key or b"").decode()] = None if value is None else orjson.loads(value)
        elif topic.endswith("alerts"):
            alert = orjson.loads(value or b"{}")
            old = self.alerts.setdefault(alert["alert_id"], alert)
            if old != alert:
                self.conflicting_alerts.append(alert["alert_id"])
        else:
            self.dlq[dict(headers or [])["error_type"].decode()] += 1


def replay_shop(sim: SimConfig, tmp: Path) -> Published:
    """The shop written to JSONL and replayed, as ``insight-stream replay`` does."""
    Shop(sim).write(tmp)
    out = Published()
    driver = Driver(Processor(), lambda rec: out.add(*rec))
    replay_files(driver, [tmp / "clickstream.jsonl", tmp / "orders.jsonl"])
    driver.drain(seal=False)
    return out


def read_published(bootstrap: str, prefix: str) -> Published:
    out = Published()
    for kind in ("profiles", "alerts", "dlq"):
        topic = f"{prefix}.{kind}"
        for rec in read_topic(bootstrap, topic):
            out.add(topic, rec.key, rec.value, rec.headers)
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
