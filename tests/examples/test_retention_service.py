"""examples/retention_service.py: one action per alert_id, duplicates skipped."""

from __future__ import annotations

from pathlib import Path

import pytest
from example_records import alert, load_example, produce, run_example, unique_topic

service = load_example("retention_service")


def test_duplicate_alert_ids_are_skipped() -> None:
    inbox = service.AlertInbox()
    first = service.handle(inbox, alert("a1", "u1", "send win-back coupon"))
    assert first and "ACTION send win-back coupon -> user u1 (alert a1" in first
    assert service.handle(inbox, alert("a1", "u1", "send win-back coupon")) is None
    assert service.handle(inbox, alert("a2", "u2", "call customer")) is not None
    assert service.handle(inbox, b"{broken") is None
    assert service.handle(inbox, b'{"schema_version": 1, "alert_id": "x"}') is None
    assert (inbox.handled(), inbox.duplicates, inbox.invalid) == (2, 1, 2)


def test_dedup_survives_restart(tmp_path: Path) -> None:
    db = str(tmp_path / "handled.sqlite")
    inbox = service.AlertInbox(db)
    assert service.handle(inbox, alert("a1", "u1", "x"))
    inbox.db.commit()
    again = service.AlertInbox(db)
    assert service.handle(again, alert("a1", "u1", "x")) is None


@pytest.mark.integration
def test_service_against_broker(tansu_broker: str, tmp_path: Path) -> None:
    topic = unique_topic("example.alerts")
    produce(
        tansu_broker,
        topic,
        [
            ("u1", alert("a1", "u1", "send win-back coupon")),
            ("u2", alert("a2", "u2", "personal call", risk=0.91)),
            ("u1", alert("a1", "u1", "send win-back coupon")),  # re-sent: same alert_id
            ("u3", b"not an alert"),
        ],
    )
    db = str(tmp_path / "handled.sqlite")
    common = ["--bootstrap", tansu_broker, "--topic", topic, "--db", db, "--idle-timeout", "4"]
    common += ["--session-timeout-ms", "3000"]
    proc = run_example("retention_service", *common, "--group", f"{topic}.g1")
    assert proc.returncode == 0, proc.stderr
    actions = [line for line in proc.stdout.splitlines() if line.startswith("ACTION")]
    assert len(actions) == 2, proc.stdout
    assert "ACTION send win-back coupon -> user u1 (alert a1, risk 0.85" in proc.stdout
    assert "ACTION personal call -> user u2 (alert a2, risk 0.91" in proc.stdout
    assert "2 alerts handled, 1 duplicates skipped, 1 invalid records" in proc.stderr
    # A second service instance (new group, same store) re-reads everything: nothing to redo.
    again = run_example("retention_service", *common, "--group", f"{topic}.g2")
    assert again.returncode == 0, again.stderr
    assert "ACTION" not in again.stdout
    assert "2 alerts handled, 3 duplicates skipped, 1 invalid records" in again.stderr
