"""examples/personalization_feed.py: latest profile per user, recommendations printed."""

from __future__ import annotations

import pytest
from example_records import load_example, produce, profile, run_example, unique_topic

feed = load_example("personalization_feed")


def test_newest_profile_wins_and_tombstone_deletes() -> None:
    table = feed.ProfileTable()
    assert table.apply(b"u1", profile("u1", 2_000, ["i1", "i2"])) == "upsert"
    assert table.apply(b"u1", profile("u1", 1_000, ["old"])) == "stale"  # re-delivered, older
    assert table.apply(b"u1", profile("u1", 2_000, ["i1", "i2"])) == "upsert"  # same: idempotent
    assert [r["item_id"] for r in table.get("u1")["recommendations"]] == ["i1", "i2"]
    assert table.apply(b"u2", profile("u2", 1_500, ["i3"])) == "upsert"
    assert table.latest_users(5) == ["u1", "u2"]
    assert table.apply(b"u1", None) == "delete"
    assert table.get("u1") is None and len(table) == 1
    assert table.apply(b"u3", b"{not json") == "invalid"


def test_describe_lists_ranked_recommendations() -> None:
    lines = feed.describe("u1", feed.ProfileTable().get("u1"))
    assert lines == ["u1: no profile"]
    table = feed.ProfileTable()
    table.apply(b"u1", profile("u1", 1, ["i5", "i6", "i7"], risk=0.25))
    lines = feed.describe("u1", table.get("u1"), top=2)
    assert lines[0] == 'u1: segment 2 "high-value loyal", churn risk 0.25'
    assert lines[1:] == [
        "  1. i5  score 1.000  bought with i0",
        "  2. i6  score 0.900  bought with i1",
    ]


@pytest.mark.integration
def test_feed_against_broker(tansu_broker: str) -> None:
    topic = unique_topic("example.profiles")
    produce(
        tansu_broker,
        topic,
        [
            ("u1", profile("u1", 1_000, ["i1", "i2"])),
            ("u2", profile("u2", 1_100, ["i8"])),
            ("u1", profile("u1", 2_000, ["i3", "i4", "i5"])),  # newer u1 replaces the first
            ("u3", profile("u3", 1_200, ["i9"])),
            ("u3", None),  # erased
            ("bad", b"{not json"),
        ],
    )
    args = ["--bootstrap", tansu_broker, "--topic", topic, "--idle-timeout", "3"]
    proc = run_example("personalization_feed", *args, "--user", "u1", "--user", "u3")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        'u1: segment 2 "high-value loyal", churn risk 0.20',
        "  1. i3  score 1.000  bought with i0",
        "  2. i4  score 0.900  bought with i1",
        "  3. i5  score 0.800  bought with i2",
        "u3: no profile",
    ]
    assert "2 profiles from" in proc.stderr and "invalid 1" in proc.stderr
    latest = run_example("personalization_feed", *args, "--latest", "1")
    assert latest.returncode == 0, latest.stderr
    assert latest.stdout.splitlines()[0].startswith("u1: ")  # updated_at 2000 is the newest
