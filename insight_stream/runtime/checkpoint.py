"""Local SQLite checkpoint: per-user state, shared model state and the input offsets they reflect.

One ``save`` is one transaction, so state and offsets can never disagree: after a crash the
store holds either the previous checkpoint or the new one, never a mix. That makes the store,
not the Kafka group commit, the source of truth for where to resume (docs/checkpointing.md).
WAL with ``synchronous=NORMAL``: a process kill never loses a committed transaction; a power
loss may roll back the last one, which only means replaying a few more records.
"""

from __future__ import annotations

import fcntl
import json
import logging
import sqlite3
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from insight_stream.processor.contract import READABLE_FORMATS, STATE_FORMAT
from insight_stream.processor.engine_file import changed_state_settings

USERS_TABLE = """CREATE TABLE IF NOT EXISTS users (
    user_id TEXT PRIMARY KEY, partition INTEGER NOT NULL, blob BLOB NOT NULL)"""
USERS_INDEX = "CREATE INDEX IF NOT EXISTS users_partition ON users(partition)"
SCHEMA = f"""
{USERS_TABLE};
{USERS_INDEX};
CREATE TABLE IF NOT EXISTS shared (id INTEGER PRIMARY KEY CHECK (id = 0), blob BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS offsets (
    topic TEXT NOT NULL, partition INTEGER NOT NULL, next_offset INTEGER NOT NULL,
    applied INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (topic, partition)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
"""

TopicPartitionKey = tuple[str, int]
log = logging.getLogger(__name__)

# Layout of the SQLite tables (not of the blobs: that is STATE_FORMAT). Layout 1 kept users in
# a WITHOUT ROWID table, which SQLite advises against for rows over ~1/20 of a page: with
# ~1.1 KB states it wrote 4-5x slower and filled pages half. Layout 2 is a rowid table.
STORE_LAYOUT = 2

STATE_SETTINGS_ADVICE = (  # what to do about changed state-bound settings
    "Set them back to the old values (engine config file or INSIGHT_ENGINE__SECTION__KEY), or "
    "start afresh with a new INSIGHT_STATE_DIR and INSIGHT_GROUP_ID (a new group has its own "
    "changelog and reads the input from the start)"
)


class StateDirLockedError(RuntimeError):
    """Another process already uses this state directory (one directory per instance)."""


class StoreMismatchError(RuntimeError):
    """The state directory was written for other input topics; refusing to mix state."""


class CheckpointStore:
    """Checkpoint file ``<state_dir>/checkpoint.sqlite`` guarded by an exclusive lock file.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d, CheckpointStore(Path(d), ("a", "b")) as s:
    ...     s.save({"u1": (0, b"x"), "u2": (1, b"y")}, b"g", {("a", 0): 5}, {("a", 0): 4})
    ...     s.save({"u2": (1, None)}, None, {("a", 0): 7}, {("a", 0): 6})
    ...     sorted(s.load_users([0, 1])), s.load_shared(), s.load_offsets(), s.load_applied()
    ([('u1', 0, b'x')], b'g', {('a', 0): 7}, {('a', 0): 6})
    """

    def __init__(self, state_dir: Path, input_topics: Iterable[str]) -> None:
        state_dir.mkdir(parents=True, exist_ok=True)
        self.path = state_dir / "checkpoint.sqlite"
        self._lock = open(state_dir / "checkpoint.lock", "w")  # noqa: SIM115 - held for our lifetime
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock.close()
            raise StateDirLockedError(
                f"state directory {state_dir} is in use by another process; give each instance "
                "its own INSIGHT_STATE_DIR"
            ) from None
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA secure_delete=ON")  # erasure: deleted rows are zeroed
            self._db.executescript(SCHEMA)
            self._check_topics(",".join(sorted(input_topics)))
            self._check_format()
            self._check_layout()
            self.instance_id = self._meta("instance_id") or uuid.uuid4().hex
            self._db.execute(
                "INSERT OR IGNORE INTO meta VALUES ('instance_id', ?)", (self.instance_id,)
            )
        except BaseException:
            self.close()  # a refused directory is not left locked by this process
            raise

    def _meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def _check_layout(self) -> None:
        """Move a layout-1 file's users to the layout-2 table in one transaction (rows are
        copied unchanged); refuse a file of a newer layout, naming both."""
        found = int(self._meta("store_layout") or 0)
        if found > STORE_LAYOUT:
            raise StoreMismatchError(
                f"{self.path} has store layout {found}; this build knows layout {STORE_LAYOUT}. "
                "Run the version that wrote it, or remove the directory to restore from the "
                "changelog"
            )
        (sql,) = self._db.execute("SELECT sql FROM sqlite_master WHERE name = 'users'").fetchone()
        db = self._db
        if "WITHOUT ROWID" in sql.upper():
            t0 = time.perf_counter()
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute("ALTER TABLE users RENAME TO users_layout1")
                db.execute("DROP INDEX IF EXISTS users_partition")
                db.execute(USERS_TABLE)  # same columns, a rowid table
                db.execute(USERS_INDEX)
                db.execute("INSERT INTO users SELECT * FROM users_layout1 ORDER BY user_id")
                db.execute("DROP TABLE users_layout1")
                db.execute(
                    "INSERT OR REPLACE INTO meta VALUES ('store_layout', ?)", (STORE_LAYOUT,)
                )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            log.info(
                "checkpoint store %s: users moved to store layout %d in %.2f s",
                self.path,
                STORE_LAYOUT,
                time.perf_counter() - t0,
            )
        elif found != STORE_LAYOUT:
            db.execute("INSERT OR REPLACE INTO meta VALUES ('store_layout', ?)", (STORE_LAYOUT,))

    def _check_format(self) -> None:
        """Refuse a file written in another state format, naming both (never misread it)."""
        found = self._meta("state_format")
        if found is None:
            has_state = self._db.execute(
                "SELECT EXISTS(SELECT 1 FROM users) OR EXISTS(SELECT 1 FROM shared)"
            ).fetchone()[0]
            if not has_state:
                self._db.execute(
                    "INSERT INTO meta VALUES ('state_format', ?)", (str(STATE_FORMAT),)
                )
                return
            found = "1"
        if int(found) in READABLE_FORMATS and int(found) != STATE_FORMAT:
            # Older blobs stay readable; the file now receives this format's, so a build
            # that reads only the older one must refuse it from here on.
            self._db.execute(
                "UPDATE meta SET value = ? WHERE key = 'state_format'", (str(STATE_FORMAT),)
            )
            log.info(
                "checkpoint store %s: state format %s read as %d", self.path, found, STATE_FORMAT
            )
            return
        if int(found) != STATE_FORMAT:
            raise StoreMismatchError(
                f"{self.path} holds state in format {found}; this build reads format "
                f"{STATE_FORMAT}. Remove the directory to restore from the changelog (or "
                "rebuild from the input), or run the version that wrote it"
            )

    def check_settings(self, settings: Mapping[str, Any], advice: str) -> None:
        """Refuse state built under other values of ``settings`` (those that change what the
        saved state means), naming each changed key; otherwise record them.

        A store that holds no state yet simply adopts ``settings``: nothing to misread, and a
        refused start must not bind an empty directory to the refused values.
        """
        stored = json.loads(self._meta("engine_state_settings") or "{}")
        changed = changed_state_settings(stored, settings) if self._has_state() else []
        if changed:
            raise StoreMismatchError(
                f"{self.path} holds state built with other engine settings that change what "
                f"saved state means: {'; '.join(changed)}. {advice}"
            )
        self._db.execute(
            "INSERT OR REPLACE INTO meta VALUES ('engine_state_settings', ?)",
            (json.dumps({**stored, **settings}, sort_keys=True),),
        )

    def _has_state(self) -> bool:
        return bool(
            self._db.execute(
                "SELECT EXISTS(SELECT 1 FROM users) OR EXISTS(SELECT 1 FROM shared) "
                "OR EXISTS(SELECT 1 FROM offsets)"
            ).fetchone()[0]
        )

    @property
    def changelog_cycle(self) -> int:
        """The changelog cycle the saved state belongs to (0: none)."""
        return int(self._meta("changelog_cycle") or 0)

    def topic_ids(self) -> dict[str, str]:
        """Broker ids of the input topics the saved offsets belong to (empty: not yet seen)."""
        raw = self._meta("topic_ids")
        return dict(json.loads(raw)) if raw else {}

    def remember_topic_ids(self, ids: dict[str, str]) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO meta VALUES ('topic_ids', ?)",
            (json.dumps(ids, sort_keys=True),),
        )

    def _check_topics(self, fingerprint: str) -> None:
        row = self._db.execute("SELECT value FROM meta WHERE key='input_topics'").fetchone()
        if row is None:
            self._db.execute("INSERT INTO meta VALUES ('input_topics', ?)", (fingerprint,))
        elif row[0] != fingerprint:
            raise StoreMismatchError(
                f"{self.path} holds state for input topics {row[0]}, not {fingerprint}; "
                "use another INSIGHT_STATE_DIR"
            )

    def save(
        self,
        users: Mapping[str, tuple[int, bytes | None]],
        shared: bytes | None,
        offsets: Mapping[TopicPartitionKey, int],
        applied: Mapping[TopicPartitionKey, int],
        cycle: int | None = None,
    ) -> None:
        """Write changed users (blob None = erased), shared state and offsets in ONE transaction.

        ``offsets`` are next offsets to read; ``applied`` running counts of valid events folded
        into the state per partition (an exact no-loss/no-double-count audit).
        """
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            live = [(uid, part, blob) for uid, (part, blob) in users.items() if blob is not None]
            gone = [(uid,) for uid, (_, blob) in users.items() if blob is None]
            if live:
                db.executemany("INSERT OR REPLACE INTO users VALUES (?, ?, ?)", live)
            if gone:
                db.executemany("DELETE FROM users WHERE user_id = ?", gone)
            if shared is not None:
                db.execute("INSERT OR REPLACE INTO shared VALUES (0, ?)", (shared,))
            db.executemany(
                "INSERT OR REPLACE INTO offsets VALUES (?, ?, ?, ?)",
                [(t, p, off, applied.get((t, p), 0)) for (t, p), off in offsets.items()],
            )
            if cycle is not None:
                db.execute(
                    "INSERT OR REPLACE INTO meta VALUES ('changelog_cycle', ?)", (str(cycle),)
                )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        if gone:
            self.purge_wal()

    def purge_wal(self) -> None:
        """Copy the WAL into the file and truncate it, so no older frame keeps an erased
        user's row (``secure_delete`` zeroes the row in the file itself)."""
        self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def replace_partitions(
        self,
        partitions: Iterable[int],
        users: Mapping[str, tuple[int, bytes]],
        offsets: Mapping[TopicPartitionKey, int],
        applied: Mapping[TopicPartitionKey, int],
    ) -> None:
        """Swap the local copy of ``partitions`` for state restored from the changelog."""
        parts = sorted(set(partitions))
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany("DELETE FROM users WHERE partition = ?", [(p,) for p in parts])
            db.executemany("DELETE FROM offsets WHERE partition = ?", [(p,) for p in parts])
            db.executemany(
                "INSERT OR REPLACE INTO users VALUES (?, ?, ?)",
                [(uid, part, blob) for uid, (part, blob) in users.items()],
            )
            db.executemany(
                "INSERT OR REPLACE INTO offsets VALUES (?, ?, ?, ?)",
                [(t, p, off, applied.get((t, p), 0)) for (t, p), off in offsets.items()],
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def load_offsets(self) -> dict[TopicPartitionKey, int]:
        return {
            (t, p): o
            for t, p, o in self._db.execute("SELECT topic, partition, next_offset FROM offsets")
        }

    def load_applied(self) -> dict[TopicPartitionKey, int]:
        return {
            (t, p): n
            for t, p, n in self._db.execute("SELECT topic, partition, applied FROM offsets")
        }

    def load_shared(self) -> bytes | None:
        row = self._db.execute("SELECT blob FROM shared WHERE id = 0").fetchone()
        return None if row is None else bytes(row[0])

    def load_users(
        self, partitions: Iterable[int], include_unknown: bool = True
    ) -> Iterator[tuple[str, int, bytes]]:
        """(user_id, partition, blob) of ``partitions``, plus users stored as -1 (unknown)."""
        for part in sorted({*partitions, -1} if include_unknown else set(partitions)):
            cur = self._db.execute("SELECT user_id, blob FROM users WHERE partition = ?", (part,))
            for uid, blob in cur:
                yield uid, part, bytes(blob)

    def load_blobs(self, uids: Iterable[str]) -> dict[str, bytes]:
        """The stored blobs of those of ``uids`` this file holds."""
        out: dict[str, bytes] = {}
        for uid in uids:
            row = self._db.execute("SELECT blob FROM users WHERE user_id = ?", (uid,)).fetchone()
            if row is not None:
                out[uid] = bytes(row[0])
        return out

    def count_users(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM users").fetchone()[0])

    def close(self) -> None:
        try:
            self._db.close()
        finally:
            self._lock.close()

    def __enter__(self) -> CheckpointStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
