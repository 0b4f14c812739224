"""The changelog against a real broker: what a restore reads back, and what would survive
compaction (Tansu does not compact, so the test compacts the records itself)."""

from __future__ import annotations

import os

import pytest

from insight_stream.runtime.broker import EmbeddedBroker
from insight_stream.runtime.changelog import CHUNK, SHARED, Changelog
from insight_stream.runtime.config import RuntimeConfig, load_config
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


def _config(broker: EmbeddedBroker, group: str, snapshot_records: int) -> RuntimeConfig:
    return load_config(
        {},
        {
            "bootstrap_servers": broker.bootstrap,
            "group_id": group,
            "changelog_snapshot_records": snapshot_records,
        },
    )


class _Writer:
    """A writer's commit cycles as ``Runner.commit_cycle`` runs them, its local store a dict."""

    def __init__(self, log: Changelog, sink: KafkaSink, owned: set[int]) -> None:
        self.log, self.sink, self.owned = log, sink, owned
        self.store: dict[str, tuple[int, bytes]] = {}
        self.cycle = 0

    def load_users(
        self, parts: list[int], include_unknown: bool = True
    ) -> list[tuple[str, int, bytes]]:
        return [(u, p, b) for u, (p, b) in self.store.items() if p in parts]

    def load_blobs(self, uids: list[str]) -> dict[str, bytes]:
        return {u: self.store[u][1] for u in uids if u in self.store}

    def commit(self, users: dict[str, tuple[int, bytes | None]], mark: bool = True) -> None:
        self.cycle += 1
        self.log.write(users, b"shared", self.owned, self.cycle, self)
        self.sink.flush()
        if not mark:  # the writer dies before its markers
            return
        self.log.mark(self.owned, self.cycle, {}, {})
        self.sink.flush()
        for uid, (part, blob) in users.items():
            if blob is None:
                self.store.pop(uid, None)
            else:
                self.store[uid] = (part, blob)


def _changes(n: int, cycle: int, every: int = 1) -> dict[str, tuple[int, bytes | None]]:
    return {f"u{i}": (i % 2, b"\x03%d@%d" % (i, cycle)) for i in range(0, n, every)}


def test_a_snapshot_shortens_the_restore_and_gives_the_same_users() -> None:
    with EmbeddedBroker() as broker:
        cfg = _config(broker, "cls", 50)
        sink = KafkaSink(cfg)
        w = _Writer(Changelog(cfg, sink, "w1"), sink, {0, 1})
        w.commit(_changes(200, 1))  # 100 per partition, then a snapshot of each
        w.commit(_changes(200, 2))  # every user again: 100 >= 50% of 100, a snapshot again
        w.commit(_changes(200, 3, every=5))  # 20 per partition: no snapshot
        assert {r["cycle"] for r in w.log.schedule.refs.values()} == {2}
        w.commit({"u4": (0, None)})  # an erasure: partition 0's snapshot is rewritten
        reader = Changelog(cfg, sink, "w2")
        markers = reader.last_markers({0, 1})
        got = reader.restore({0, 1}, want_shared=True, markers=markers)
        whole = Changelog(cfg, sink, "w3").restore({0, 1}, want_shared=False)
        total = len(read_topic(broker.bootstrap, cfg.changelog_topic))
        sink.close()
    assert {u: pb for u, pb in got.users.items()} == w.store
    assert "u4" not in got.users
    assert got.shared == b"shared"
    assert whole.users == got.users  # from the partitions' starts: the same users
    # from the snapshot: its chunks and the per-user records after it, not cycle 1's
    assert got.records < total - 400
    assert got.since == {0: 0, 1: 20}  # a snapshot follows its own cycle's records
    # the markers the reader will write name the same snapshots
    assert reader.schedule.refs == w.log.schedule.refs


def test_a_snapshot_cut_short_by_a_crash_is_not_used() -> None:
    with EmbeddedBroker() as broker:
        cfg = _config(broker, "clc", 50)
        sink = KafkaSink(cfg)
        w = _Writer(Changelog(cfg, sink, "w1"), sink, {0, 1})
        for cycle in (1, 2, 3):  # a snapshot at each
            w.commit(_changes(200, cycle))
        named = dict(w.log.schedule.refs)
        w.commit(_changes(200, 4), mark=False)  # a snapshot cut short by a crash...
        cut = {p: ref["slot"] for p, ref in w.log.schedule.taking.items()}
        reader = Changelog(cfg, sink, "w2")
        got = reader.restore({0, 1}, False, reader.last_markers({0, 1}))
        sink.close()
    assert cut and all(slot != named[p]["slot"] for p, slot in cut.items())  # ...elsewhere
    assert got.users == w.store  # cycle 3's users: the markers' snapshot, then cycle 3
    assert reader.schedule.refs == named


def test_a_marker_naming_an_incomplete_snapshot_reads_the_whole_partition() -> None:
    with EmbeddedBroker() as broker:
        cfg = _config(broker, "cli", 150)
        sink = KafkaSink(cfg)
        w = _Writer(Changelog(cfg, sink, "w1"), sink, {0, 1})
        for cycle in (1, 2, 3):  # a snapshot at cycle 2 only
            w.commit(_changes(200, cycle))
        refs = w.log.schedule.refs
        refs[1] = {**refs[1], "chunks": 99}  # chunks the topic does not hold
        w.commit(_changes(200, 4, every=7))
        reader = Changelog(cfg, sink, "w2")
        got = reader.restore({0, 1}, False, reader.last_markers({0, 1}))
        sink.close()
    assert got.users == w.store
    assert got.since[0] < 200 < 300 < got.since[1]  # partition 1 from its start


def test_an_erasure_rewrites_its_partitions_snapshots_on_a_compacted_topic() -> None:
    """Snapshot chunks are keyed by slot, not user: without a rewrite, compaction would keep
    an erased user's state in them."""
    with EmbeddedBroker() as broker:
        cfg = _config(broker, "cle", 50)
        sink = KafkaSink(cfg)
        w = _Writer(Changelog(cfg, sink, "w1"), sink, {0, 1})
        big = {f"customer-{i:04d}": (i % 2, b"\x03" + os.urandom(3000)) for i in range(400)}
        w.commit(big)
        w.commit(big)  # snapshots in slot 1: 200 users x 3 KB, several chunks each
        w.commit(dict(list(big.items())[:150]))  # and slot 0
        assert all(r["chunks"] > 1 for r in w.log.schedule.refs.values())
        victim = "customer-0003"  # partition 1
        w.commit({victim: (1, None), "customer-0000": (0, b"\x03zero")})
        got = Changelog(cfg, sink, "w2").restore({0, 1}, False)
        records = read_topic(broker.bootstrap, cfg.changelog_topic)
        sink.close()
    assert got.users == w.store and victim not in got.users
    compacted = {(r.partition, r.key): r.value for r in records}
    assert compacted[(1, victim.encode())] is None
    holding = [k for k, v in compacted.items() if v is not None and victim.encode() in v]
    assert not holding
    # the rest of partition 1 is still in its (rewritten) snapshot
    assert any(v is not None and b"customer-0005" in v for (p, k), v in compacted.items() if p == 1)


def test_values_a_dead_writer_left_after_the_last_marker_are_written_again() -> None:
    """A writer dies after its cycle's records are acknowledged, before its markers: the
    instance that takes the partitions over (here: the same one, restarted on its local
    file) overwrites those values in its first cycle, so a later restore does not take them
    (they reflect input past the markers' offsets)."""
    with EmbeddedBroker() as broker:
        cfg = _config(broker, "clr", 50)
        sink = KafkaSink(cfg)
        w = _Writer(Changelog(cfg, sink, "w1"), sink, {0, 1})
        w.commit(_changes(200, 1))  # a snapshot of each partition in slot 1
        w.commit(_changes(200, 2))  # and in slot 0
        w.commit(_changes(200, 3), mark=False)  # dies: slot 1 chunks and users unmarked
        dead = {r["slot"] for r in w.log.schedule.taking.values()}
        restarted = _Writer(Changelog(cfg, sink, "w1"), sink, {0, 1})
        restarted.store, restarted.cycle = dict(w.store), 2
        restarted.log.take_over({0, 1})
        restarted.commit(_changes(200, 9, every=10))  # re-folds less input than the dead one
        reader = Changelog(cfg, sink, "w2")
        got = reader.restore({0, 1}, False, reader.last_markers({0, 1}))
        records = read_topic(broker.bootstrap, cfg.changelog_topic)
        sink.close()
    assert dead == {1} and got.users == restarted.store  # cycle 2's users, 20 changed at cycle 9
    assert not [u for u, (_, b) in got.users.items() if b.endswith(b"@3")]
    compacted = {(r.partition, r.key): r.value for r in records}
    left = [k for (p, k), v in compacted.items() if k.startswith(b"\x00snap:1") and v is not None]
    assert not left  # the dead writer's unnamed chunks are tombstoned
