"""A hostile mix through ``insight-stream run`` and through ``replay``: re-sent orders, clocks
in 2099 and 1971, oversized strings. Both publish the same, and neither lets the hostile
records change what the honest ones say."""

from __future__ import annotations

import os
import random
import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from insight_stream.events.outputs import MAX_PROFILE_BYTES
from insight_stream.replay.compare import differences, replay_dir
from insight_stream.sim import Shop

from .parity import PARITY_SHOP, read_published
from .support import feed_shop, runtime_env, settled

pytestmark = pytest.mark.integration

FUTURE, PAST = "2099-01-01T00:00:00Z", "1971-01-01T00:00:00Z"


def hostile_mix(honest: list[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    rnd = random.Random(4)
    out: list[tuple[str, bytes]] = []
    for topic, raw in honest:
        out.append((topic, raw))
        try:
            doc = orjson.loads(raw)
        except orjson.JSONDecodeError:
            continue  # the shop's own malformed records
        if not isinstance(doc, dict) or "user_id" not in doc:
            continue
        u = rnd.random()
        if doc.get("type") == "order_placed" and u < 0.08:
            out.append((topic, raw))  # re-sent by an at-least-once bridge
        elif u < 0.002:
            out.append(
                (topic, orjson.dumps({**doc, "event_id": doc["event_id"] + "f", "ts": FUTURE}))
            )
        elif u < 0.003:
            out.append(
                (topic, orjson.dumps({**doc, "event_id": doc["event_id"] + "p", "ts": PAST}))
            )
        elif u < 0.004 and "category" in doc:
            out.append(
                (
                    topic,
                    orjson.dumps(
                        {**doc, "event_id": doc["event_id"] + "x", "category": "c" * 200_000}
                    ),
                )
            )
    return out


def _write(records: list[tuple[str, bytes]], d: Path) -> None:
    d.mkdir(parents=True, exist_ok=True)
    with (d / "clickstream.jsonl").open("wb") as c, (d / "orders.jsonl").open("wb") as o:
        for topic, raw in records:
            (c if topic == "clickstream" else o).write(raw + b"\n")


def test_hostile_mix_through_run_equals_replay_and_leaves_honest_facts_alone(
    tansu_broker: str, start_processor: Any, tmp_path: Path
) -> None:
    honest = list(Shop(PARITY_SHOP).events())
    mixed = hostile_mix(honest)
    assert len(mixed) - len(honest) > 100
    now = int(time.time() * 1000)
    _write(honest, tmp_path / "honest")
    _write(mixed, tmp_path / "mixed")
    clean = replay_dir(tmp_path / "honest", now_ms=now)
    want = replay_dir(tmp_path / "mixed", now_ms=now)

    prefix = f"hm{os.getpid()}"
    feed_shop(tansu_broker, prefix, users=1, events=mixed)
    proc = start_processor(runtime_env(tansu_broker, prefix, tmp_path / "state"))

    proc.wait_for(lambda: settled(proc), "hostile mix consumed and settled", timeout=240)
    duplicates = proc.metric("insight_stream_duplicate_events_total")
    assert proc.terminate() == 0
    got = read_published(tansu_broker, prefix)
    assert not differences(got, want)  # run == replay on the hostile mix too
    assert duplicates > 50
    assert got.dlq["future_timestamp"] > 0 and got.dlq["too_old"] > 0, got.dlq
    last_honest = max(p["last_seen"] for p in clean.profiles.values() if p)
    for alert in got.alerts.values():
        assert alert["ts"] <= last_honest + 1
    for uid, prof in got.profiles.items():
        assert prof is not None
        assert len(orjson.dumps(prof)) <= MAX_PROFILE_BYTES
        assert prof["first_seen"] >= 946_684_800_000
        assert prof["orders"] == clean.profiles[uid]["orders"], uid  # re-sends counted once
