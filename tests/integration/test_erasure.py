"""Privacy end to end, through Kafka: with ``INSIGHT_PSEUDONYMIZE_KEY`` set, a ``user_erased``
event removes the user from every store the engine owns, and ``run`` still equals
``replay`` with the same key.

After the erasure the test scans, for the raw id and for its pseudonym: the live state (the
query endpoint), the SQLite checkpoint files byte by byte (blobs included), every record of
every topic of the deployment (keys, values, headers; changelog included). The raw id is
found only in the input topics (the engine reads them, it does not own them). The pseudonym
is found only in history a compacted topic supersedes (profiles, changelog: the last record
of its key is a tombstone) and in alerts raised before the erasure (an event topic, expired
by retention); docs/privacy.md says so.
"""

from __future__ import annotations

import os
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest
from kafka import KafkaAdminClient

from insight_stream.events import EVENT_ADAPTER
from insight_stream.events.pseudonym import Pseudonymizer
from insight_stream.replay.compare import differences, replay_dir
from insight_stream.runtime.reader import read_published, read_topic
from insight_stream.sim import Shop, SimConfig

from .support import feed_shop, runtime_env, settled

pytestmark = pytest.mark.integration

KEY = "integration-test-key-0123456789"
SHOP = SimConfig(users=150, days=45, seed=11)


def _with_erasure(tmp: Path) -> tuple[list[tuple[str, bytes]], tuple[str, bytes], str]:
    """The shop's events, and an erasure of its busiest buyer a minute after the last event;
    also written as JSONL (the erasure last), for the replay."""
    events = list(Shop(SHOP).events())
    decoded = [EVENT_ADAPTER.validate_json(raw) for _, raw in events]
    orders = Counter(ev.user_id for ev in decoded if ev.type == "order_placed")
    victim = orders.most_common(1)[0][0]
    erase = orjson.dumps(
        {
            "event_id": "erase-1",
            "user_id": victim,
            "type": "user_erased",
            "ts": max(ev.ts for ev in decoded) + 60_000,
        }
    )
    tmp.mkdir(parents=True, exist_ok=True)
    with (
        open(tmp / "clickstream.jsonl", "wb") as clicks,
        open(tmp / "orders.jsonl", "wb") as order_file,
    ):
        for kind, raw in [*events, ("clickstream", erase)]:
            (clicks if kind == "clickstream" else order_file).write(raw + b"\n")
    return events, ("clickstream", erase), victim


def test_erasure_leaves_no_trace_and_run_equals_replay(
    tansu_broker: str, start_processor: Any, tmp_path: Path
) -> None:
    events, erasure, victim = _with_erasure(tmp_path / "input")
    pz = Pseudonymizer(KEY)
    alias = pz.id(victim)
    prefix = f"er{os.getpid()}"
    feed_shop(tansu_broker, prefix, users=1, events=events)
    state = tmp_path / "state"
    env = runtime_env(
        tansu_broker,
        prefix,
        state,
        INSIGHT_COMMIT_INTERVAL_MS="300",
        INSIGHT_PSEUDONYMIZE_KEY=KEY,
        # changelog snapshots hold users under keys of their own: the erasure rewrites them
        INSIGHT_CHANGELOG_SNAPSHOT_RECORDS="20",
    )
    proc = start_processor(env)
    proc.wait_for(lambda: settled(proc), "input consumed and settled", timeout=240)
    code, body = proc.get("/users/" + victim)  # queried by the id the producer keys by
    assert code == 200 and orjson.loads(body)["user_id"] == alias
    feed_shop(tansu_broker, prefix, users=1, events=[erasure])
    proc.wait_for(
        lambda: proc.metric("insight_stream_erasures_total") == 1 and settled(proc),
        "erasure applied and settled",
    )

    # live state: gone; others are served under their pseudonym
    code, body = proc.get("/users/" + victim)
    assert code == 404 and orjson.loads(body)["error"] == "unknown_user"
    other = next(u for u in (_user(raw) for _, raw in events) if u != victim)
    code, body = proc.get("/users/" + other)
    assert code == 200 and orjson.loads(body)["user_id"] == pz.id(other)
    assert victim.encode() not in proc.get("/segments")[1].encode()
    # the SQLite checkpoint (file, WAL), byte by byte: while running, and after the stop
    running = _state_bytes(state)
    assert proc.terminate() == 0
    assert "changelog: snapshot of partitions" in proc.log()
    for data in (running, _state_bytes(state)):
        assert pz.id(other).encode() in data  # the scan does see ids that are there
        assert data.count(victim.encode()) == 0
        assert data.count(alias.encode()) == 0
    db = sqlite3.connect(state / "checkpoint.sqlite")
    query = "SELECT blob FROM users UNION ALL SELECT blob FROM shared"
    blobs = [bytes(b) for (b,) in db.execute(query)]
    db.close()
    assert blobs and not [b for b in blobs if alias.encode() in b or victim.encode() in b]

    # every record of every topic of the deployment
    admin = KafkaAdminClient(bootstrap_servers=tansu_broker)
    topics = sorted(t for t in admin.list_topics() if t.startswith(prefix))
    admin.close()
    changelog = f"{prefix}.group.state-changelog"
    assert changelog in topics and f"{prefix}.profiles" in topics
    raw_hits: Counter[str] = Counter()
    alias_hits: Counter[str] = Counter()
    records: dict[str, list[Any]] = {}
    for topic in topics:
        records[topic] = read_topic(tansu_broker, topic)
        for rec in records[topic]:
            parts = [rec.key or b"", rec.value or b""]
            parts += [v for _, v in rec.headers or []]
            blob = b"\x00".join(parts)
            raw_hits[topic] += blob.count(victim.encode())
            alias_hits[topic] += blob.count(alias.encode())
    inputs = {f"{prefix}.clickstream", f"{prefix}.orders"}
    assert {t for t, n in raw_hits.items() if n} <= inputs
    assert raw_hits[f"{prefix}.clickstream"] > 0  # the input keeps what the producer wrote
    # compacted topics: the last record of the pseudonym's key is a tombstone, and no
    # other key's last record (nor the last changelog cycle) mentions it
    for topic in (f"{prefix}.profiles", changelog):
        latest: dict[bytes, bytes | None] = {}
        for rec in records[topic]:
            latest[rec.key] = rec.value
        assert alias.encode() in latest and latest[alias.encode()] is None, topic
        assert not [k for k, v in latest.items() if v is not None and alias.encode() in v]
    cycles = [int(dict(r.headers)["cycle"]) for r in records[changelog] if r.headers]
    last_cycle = [
        r for r in records[changelog] if r.headers and int(dict(r.headers)["cycle"]) == max(cycles)
    ]
    assert last_cycle and not [r for r in last_cycle if alias.encode() in (r.value or b"")]
    assert {t for t, n in alias_hits.items() if n} <= {
        f"{prefix}.profiles",
        changelog,
        f"{prefix}.alerts",
    }

    # run == replay, both with the key
    want = replay_dir(tmp_path / "input", pseudonymizer=pz)
    got = read_published(
        tansu_broker, [f"{prefix}.{kind}" for kind in ("profiles", "alerts", "dlq")]
    )
    assert want.profiles[alias] is None and alias in got.profiles
    assert not differences(got, want)
    assert not [u for u in got.profiles if len(u) != 64]  # every published id is a pseudonym


def _state_bytes(state: Path) -> bytes:
    return b"".join(f.read_bytes() for f in sorted(state.iterdir()) if f.is_file())


def _user(raw: bytes) -> str:
    return EVENT_ADAPTER.validate_json(raw).user_id
