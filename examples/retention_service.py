"""Retention service: acts once on each churn alert from Kafka.

Reads ``insight.churn-alerts`` in a consumer group, drops alerts whose ``alert_id`` it has
already handled (the engine re-sends idempotently: at-least-once delivery), prints the
suggested action for new ones and commits. Handled ids live in SQLite, so use ``--db FILE``
to stay deduplicated across restarts.

    python examples/retention_service.py --bootstrap localhost:9092 --db retention.sqlite

Needs only ``kafka-python``; the record shape is ``schemas/churn-alert.v1.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sqlite3
import sys
import time
from collections.abc import Iterable
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS handled (
    alert_id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    ts INTEGER NOT NULL,
    action TEXT NOT NULL
)
"""


class AlertInbox:
    """Deduplicates alerts by ``alert_id``; ``accept`` is True only the first time."""

    def __init__(self, path: str = ":memory:") -> None:
        self.db = sqlite3.connect(path)
        self.db.execute(SCHEMA)
        self.duplicates = 0
        self.invalid = 0

    def accept(self, alert: dict[str, Any]) -> bool:
        cur = self.db.execute(
            "INSERT OR IGNORE INTO handled (alert_id, user_id, ts, action) VALUES (?, ?, ?, ?)",
            (alert["alert_id"], alert["user_id"], int(alert["ts"]), alert["action"]),
        )
        if cur.rowcount == 0:
            self.duplicates += 1
            return False
        return True

    def handled(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM handled").fetchone()[0])


def parse(value: bytes | None) -> dict[str, Any] | None:
    """A ChurnAlert dict, or None when the record is not a v1 alert."""
    try:
        alert = json.loads(value or b"")
    except ValueError:
        return None
    required = ("alert_id", "user_id", "ts", "risk", "value", "reasons", "action")
    if (
        not isinstance(alert, dict)
        or alert.get("schema_version") != 1
        or any(k not in alert for k in required)
    ):
        return None
    return alert


def action_line(alert: dict[str, Any]) -> str:
    """What the retention team does, one line per alert."""
    items = ", ".join(alert.get("recommended_items") or []) or "-"
    return (
        f"ACTION {alert['action']} -> user {alert['user_id']} (alert {alert['alert_id']}, "
        f"risk {alert['risk']:.2f}, value {alert['value']:.2f}, "
        f"top category {alert.get('top_category') or '-'}, items {items}); "
        f"reasons: {'; '.join(alert['reasons'])}"
    )


def handle(inbox: AlertInbox, value: bytes | None) -> str | None:
    """The action line for a new alert; None for a duplicate or invalid record."""
    alert = parse(value)
    if alert is None:
        inbox.invalid += 1
        return None
    return action_line(alert) if inbox.accept(alert) else None


def run(inbox: AlertInbox, args: argparse.Namespace) -> None:
    from kafka import KafkaConsumer

    consumer = KafkaConsumer(
        args.topic,
        bootstrap_servers=args.bootstrap,
        group_id=args.group,
        client_id="retention-service",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=args.session_timeout_ms,
        heartbeat_interval_ms=max(100, args.session_timeout_ms // 6),
    )
    try:
        last_record = time.monotonic()
        while args.idle_timeout <= 0 or time.monotonic() - last_record < args.idle_timeout:
            batches = consumer.poll(timeout_ms=200)
            for records in batches.values():
                for record in records:
                    line = handle(inbox, record.value)
                    if line:
                        print(line, flush=True)
                last_record = time.monotonic()
            if batches:
                inbox.db.commit()  # handled ids first, then offsets: a crash re-reads, never skips
                consumer.commit()
    finally:
        consumer.close()


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", default="localhost:9092", help="Kafka bootstrap servers")
    parser.add_argument("--topic", default="insight.churn-alerts")
    parser.add_argument("--group", default="retention-service", help="consumer group id")
    parser.add_argument("--db", default=":memory:", help="SQLite file of handled alert ids")
    parser.add_argument("--session-timeout-ms", type=int, default=6000)
    parser.add_argument(
        "--idle-timeout",
        type=float,
        default=0.0,
        help="stop after this many idle seconds (default 0: run until Ctrl-C)",
    )
    args = parser.parse_args(list(argv) if argv is not None else None)

    inbox = AlertInbox(args.db)
    with contextlib.suppress(KeyboardInterrupt):
        run(inbox, args)
    print(
        f"{inbox.handled()} alerts handled, {inbox.duplicates} duplicates skipped, "
        f"{inbox.invalid} invalid records",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
