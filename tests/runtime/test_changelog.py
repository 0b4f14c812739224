"""The changelog against a real broker: what a restore reads back, and what would survive
compaction (Tansu does not compact, so the test compacts the records itself)."""

from __future__ import annotations

import os

import pytest

from insight_stream.runtime.broker import EmbeddedBroker
from insight_stream.runtime.changelog import CHUNK, SHARED, Changelog
from insight_stream.runtime.config import load_config
from insight_stream.runtime.reader import read_topic
from insight_stream.runtime.sink import KafkaSink

pytestmark = pytest.mark.integration


def test_every_shared_chunk_survives_compaction_and_restores() -> None:
    shared_1 = os.urandom(CHUNK * 2 + 10)  # three chunks
    shared_2 = os.urandom(CHUNK * 2 + 20)
    users = {"u1": (0, b"\x02one"), "u2": (1, b"\x02two")}
    with EmbeddedBroker() as broker:
        cfg = load_config({}, {"bootstrap_servers": broker.bootstrap, "group_id": "clt"})
        sink = KafkaSink(cfg)
        log = Changelog(cfg, sink, "w1")
        for cycle, shared in ((1, shared_1), (2, shared_2)):
            log.write(users, shared, {0, 1}, cycle)
            sink.flush()
            log.mark({0, 1}, cycle, {}, {})
            sink.flush()
        sink.close()
        got = log.restore({0, 1}, want_shared=True)
        records = read_topic(broker.bootstrap, cfg.changelog_topic)
    assert got.shared == shared_2
    assert {u: b for u, (_, b) in got.users.items()} == {u: b for u, (_, b) in users.items()}
    compacted = {(r.partition, r.key): r for r in records}  # last value per key survives
    kept = [
        r
        for r in compacted.values()
        if r.key.startswith(SHARED) and dict(r.headers).get("cycle") == b"2"
    ]
    assert len(kept) == 3  # one key per chunk: a compacted changelog still restores
