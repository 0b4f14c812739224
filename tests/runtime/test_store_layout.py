"""An existing state directory keeps working when the SQLite layout changes.

``fixtures/store-layout1`` was written by the build before layout 2 (commit 7df423e: users in
a WITHOUT ROWID table, state format 2); the expected facts beside it were taken from the
engine that wrote it. It is also the test that state of the previous format (2) restores.
"""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from pathlib import Path

import orjson
import pytest

from insight_stream.processor import STATE_FORMAT, Processor
from insight_stream.runtime.checkpoint import STORE_LAYOUT, CheckpointStore, StoreMismatchError

FIXTURES = Path(__file__).parent / "fixtures"
TOPICS = ("shop.clickstream", "shop.orders")


def _users_sql(path: Path) -> str:
    db = sqlite3.connect(path)
    try:
        return str(db.execute("SELECT sql FROM sqlite_master WHERE name = 'users'").fetchone()[0])
    finally:
        db.close()


def _meta(path: Path, key: str) -> str:
    db = sqlite3.connect(path)
    try:
        return str(db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()[0])
    finally:
        db.close()


@pytest.fixture
def layout1(tmp_path: Path) -> Path:
    state = tmp_path / "state"
    shutil.copytree(FIXTURES / "store-layout1", state)
    assert "WITHOUT ROWID" in _users_sql(state / "checkpoint.sqlite")  # the old layout indeed
    return state


def test_a_layout1_directory_is_migrated_without_changing_a_byte(layout1: Path) -> None:
    expected = orjson.loads((FIXTURES / "store-layout1.expected.json").read_bytes())
    with CheckpointStore(layout1, TOPICS) as store:
        users = {uid: (part, blob) for uid, part, blob in store.load_users(range(4))}
        assert len(users) == expected["users"] == store.count_users()
        digest = hashlib.blake2b(
            b"".join(u.encode() + users[u][1] for u in sorted(users)), digest_size=16
        ).hexdigest()
        assert digest == expected["blobs_blake2b"]
        assert store.changelog_cycle == expected["cycle"]
        assert (
            sorted([t, p, o] for (t, p), o in store.load_offsets().items()) == expected["offsets"]
        )
        shared = store.load_shared()
    assert "WITHOUT ROWID" not in _users_sql(layout1 / "checkpoint.sqlite").upper()
    assert _meta(layout1 / "checkpoint.sqlite", "state_format") == str(STATE_FORMAT)  # 2 -> 3
    engine = Processor()
    engine.restore(((u, b) for u, (_, b) in users.items()), shared)
    assert engine.stream_time == expected["stream_time"]
    for uid, facts in expected["sample"].items():
        assert users[uid][0] == facts["partition"]
        profile = engine.users[uid].profile
        assert (profile.orders, profile.sessions) == (facts["orders"], facts["sessions"])
        assert len(engine.recommend(uid, 5)) == 5  # today's models run on yesterday's state
    with CheckpointStore(layout1, TOPICS) as store:  # reopened: nothing to migrate, same rows
        assert store.count_users() == expected["users"]
        store.save({"new": (0, b"x")}, None, {}, {})
        assert ("new", 0, b"x") in set(store.load_users([0]))


def test_a_newer_layout_is_refused_naming_both(tmp_path: Path) -> None:
    with CheckpointStore(tmp_path, TOPICS):
        pass
    db = sqlite3.connect(tmp_path / "checkpoint.sqlite")
    db.execute("UPDATE meta SET value = ? WHERE key = 'store_layout'", (str(STORE_LAYOUT + 1),))
    db.commit()
    db.close()
    with pytest.raises(
        StoreMismatchError, match=f"layout {STORE_LAYOUT + 1}.*layout {STORE_LAYOUT}"
    ):
        CheckpointStore(tmp_path, TOPICS)
    with pytest.raises(StoreMismatchError):  # the refusal released the lock: same message
        CheckpointStore(tmp_path, TOPICS)
