"""Personalization feed: the latest profile per user in a local SQLite table, from Kafka.

Reads ``insight.profiles`` (compacted, key = user_id) from the beginning into a table,
newest ``updated_at`` wins (re-deliveries are harmless), tombstones delete the user. Then
prints the recommendations of the users asked for, or of the most recently updated ones.

    python examples/personalization_feed.py --bootstrap localhost:9092 --user u00042

Needs only ``kafka-python``; the record shape is ``schemas/profile.v1.json``.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import time
from collections.abc import Iterable
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS profiles (
    user_id TEXT PRIMARY KEY,
    updated_at INTEGER NOT NULL,
    profile TEXT NOT NULL
)
"""


class ProfileTable:
    """Latest profile per user; ``apply`` takes raw Kafka records (key, value bytes)."""

    def __init__(self, path: str = ":memory:") -> None:
        self.db = sqlite3.connect(path)
        self.db.execute(SCHEMA)

    def apply(self, key: bytes | None, value: bytes | None) -> str:
        """Fold one record in; returns what happened: upsert, stale, delete or invalid."""
        if value is None:  # tombstone: the user was erased
            if key is None:
                return "invalid"
            self.db.execute("DELETE FROM profiles WHERE user_id = ?", (key.decode(),))
            return "delete"
        try:
            profile = json.loads(value)
            user_id, updated_at = profile["user_id"], int(profile["updated_at"])
        except (ValueError, KeyError, TypeError):
            return "invalid"
        if profile.get("schema_version") != 1:
            return "invalid"
        cur = self.db.execute(
            "INSERT INTO profiles (user_id, updated_at, profile) VALUES (?, ?, ?) "
            "ON CONFLICT(user_id) DO UPDATE SET updated_at = excluded.updated_at, "
            "profile = excluded.profile WHERE excluded.updated_at >= profiles.updated_at",
            (user_id, updated_at, value.decode()),
        )
        return "upsert" if cur.rowcount else "stale"

    def get(self, user_id: str) -> dict[str, Any] | None:
        row = self.db.execute(
            "SELECT profile FROM profiles WHERE user_id = ?", (user_id,)
        ).fetchone()
        return json.loads(row[0]) if row else None

    def latest_users(self, n: int) -> list[str]:
        rows = self.db.execute(
            "SELECT user_id FROM profiles ORDER BY updated_at DESC, user_id LIMIT ?", (n,)
        )
        return [r[0] for r in rows]

    def __len__(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM profiles").fetchone()[0])


def describe(user_id: str, profile: dict[str, Any] | None, top: int = 10) -> list[str]:
    """Lines shown for one user: segment, churn risk, then the ranked recommendations."""
    if profile is None:
        return [f"{user_id}: no profile"]
    segment = profile.get("segment")
    seg = f'segment {segment["id"]} "{segment["name"]}"' if segment else "no segment yet"
    lines = [f"{user_id}: {seg}, churn risk {profile['churn']['risk']:.2f}"]
    recs = profile.get("recommendations") or []
    if not recs:
        lines.append("  (no recommendations yet)")
    for rank, rec in enumerate(recs[:top], 1):
        lines.append(f"  {rank}. {rec['item_id']}  score {rec['score']:.3f}  {rec['reason']}")
    return lines


def consume(
    table: ProfileTable, bootstrap: str, topic: str, idle_timeout_s: float
) -> dict[str, int]:
    """Read ``topic`` from the beginning (no consumer group) until idle for ``idle_timeout_s``."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        client_id="personalization-feed",
    )
    counts: dict[str, int] = {"upsert": 0, "stale": 0, "delete": 0, "invalid": 0}
    try:
        deadline = time.monotonic() + max(idle_timeout_s, 10.0)
        partitions = consumer.partitions_for_topic(topic)
        while not partitions and time.monotonic() < deadline:
            time.sleep(0.2)
            partitions = consumer.partitions_for_topic(topic)
        if not partitions:
            raise SystemExit(f"topic {topic!r} not found on {bootstrap}")
        consumer.assign([TopicPartition(topic, p) for p in sorted(partitions)])
        consumer.seek_to_beginning()
        last_record = time.monotonic()
        while idle_timeout_s <= 0 or time.monotonic() - last_record < idle_timeout_s:
            batches = consumer.poll(timeout_ms=200)
            for records in batches.values():
                for record in records:
                    counts[table.apply(record.key, record.value)] += 1
                last_record = time.monotonic()
            table.db.commit()
    finally:
        consumer.close()
    return counts


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", default="localhost:9092", help="Kafka bootstrap servers")
    parser.add_argument("--topic", default="insight.profiles")
    parser.add_argument(
        "--db", default=":memory:", help="SQLite file of the table (default: in memory)"
    )
    parser.add_argument("--user", action="append", default=[], help="user to show (repeatable)")
    parser.add_argument(
        "--latest", type=int, default=5, help="without --user: show the N latest users"
    )
    parser.add_argument("--top", type=int, default=10, help="recommendations per user")
    parser.add_argument(
        "--idle-timeout",
        type=float,
        default=5.0,
        help="stop reading after this many idle seconds (0: follow forever)",
    )
    args = parser.parse_args(list(argv) if argv is not None else None)

    table = ProfileTable(args.db)
    counts = consume(table, args.bootstrap, args.topic, args.idle_timeout)
    print(
        f"{len(table)} profiles from {args.topic} "
        f"({', '.join(f'{k} {v}' for k, v in counts.items())})",
        file=sys.stderr,
    )
    for user_id in args.user or table.latest_users(args.latest):
        print("\n".join(describe(user_id, table.get(user_id), args.top)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
