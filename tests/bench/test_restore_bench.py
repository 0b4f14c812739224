"""The restore benchmark restores every user it wrote (numbers are reported, not asserted)."""

from __future__ import annotations

import pytest

from insight_stream.bench.restore import bench_restore

pytestmark = pytest.mark.integration


def test_restore_bench_reads_back_every_user_through_all_three_stages() -> None:
    report = bench_restore(users=300, days=10, copies=2)
    assert report["users"] > 200
    assert report["records"] >= 2 * report["users"]  # every copy was read, duplicates dropped
    assert set(report["seconds"]) == {"read_changelog", "load_engine", "write_sqlite"}
