"""The Kafka side of the merge: how long an empty, caught-up partition is waited for."""

from __future__ import annotations

from typing import Any, NamedTuple

import orjson
import pytest

from insight_stream.processor import Processor
from insight_stream.processor.driver import Driver, Pending
from insight_stream.runtime import tasks as tasks_mod
from insight_stream.runtime.tasks import InputTasks

A, B = ("clicks", 0), ("clicks", 1)


class Rec(NamedTuple):
    offset: int
    value: bytes
    key: bytes | None = None


def rec(offset: int, ts: int) -> Rec:
    body = {
        "event_id": f"e{ts}",
        "user_id": f"u{ts}",
        "type": "login",
        "ts": 1_700_000_000_000 + ts,
    }
    return Rec(offset, orjson.dumps(body))


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    now = [0.0]
    monkeypatch.setattr(tasks_mod.time, "monotonic", lambda: now[0])
    return now


def test_a_wait_starts_when_records_are_held_back_not_while_everything_is_idle(
    clock: list[float],
) -> None:
    folded: list[int] = []

    def on_fold(item: Pending) -> None:
        folded.append(item.event.ts - 1_700_000_000_000)

    driver = Driver(Processor(), lambda r: None, on_fold=on_fold)
    tasks = InputTasks(driver, ("clicks",), max_buffered=100, max_idle_ms=500)
    tasks.assign({A: 0, B: 0})
    tasks.add(A, [rec(0, 1)])
    tasks.add(B, [rec(0, 2)])
    hw: dict[Any, int | None] = {A: 1, B: 1}
    driver.run()
    tasks.release_idle(hw, 0.0)
    clock[0] = 1.0
    tasks.release_idle(hw, 1.0)  # A caught up and waited 1 s > 0.5 s: released
    driver.run()
    assert folded == [1, 2]
    for t in (2.0, 3.0, 5.0):  # both empty for seconds, nothing held back: no wait runs
        clock[0] = t
        tasks.release_idle(hw, 1.0)
    tasks.add(A, [rec(1, 10)])  # live: A's next record is fetched before B's earlier one
    hw = {A: 2, B: 1}
    driver.run()
    assert folded == [1, 2]  # B is waited for again, not skipped because it was idle
    clock[0] = 5.1
    tasks.release_idle(hw, 0.1)
    driver.run()
    assert folded == [1, 2]  # still within the 0.5 s wait
    tasks.add(B, [rec(1, 7)])
    driver.run()
    assert folded == [1, 2, 7]  # event-time order, as a replay folds it
    hw = {A: 2, B: 2}
    tasks.release_idle(hw, 0.0)  # now A's 10 is held back for B: the wait starts
    driver.run()
    assert folded == [1, 2, 7]
    clock[0] = 5.7
    tasks.release_idle(hw, 0.6)  # B caught up and waited 0.6 s: released
    driver.run()
    assert folded == [1, 2, 7, 10]


def test_at_the_end_of_a_backlog_quiet_partitions_are_not_waited_for_one_by_one(
    clock: list[float],
) -> None:
    folded: list[int] = []
    driver = Driver(
        Processor(), lambda r: None, on_fold=lambda i: folded.append(i.event.ts - 1_700_000_000_000)
    )
    tasks = InputTasks(driver, ("clicks",), max_buffered=100, max_idle_ms=500)
    C = ("clicks", 2)
    tasks.assign({A: 0, B: 0, C: 0})
    tasks.add(A, [rec(0, 1), rec(1, 4)])  # the whole backlog fetched at t=0
    tasks.add(B, [rec(0, 2)])
    tasks.add(C, [rec(0, 3), rec(1, 5)])
    hw: dict[Any, int | None] = {A: 2, B: 1, C: 2}
    driver.run()
    tasks.release_idle(hw, 0.0)
    assert folded == [1, 2]  # B drained, caught up: waited for (it may still deliver)
    clock[0] = 0.6
    tasks.release_idle(hw, 0.6)  # B delivered nothing for 0.6 s: released
    driver.run()
    assert folded == [1, 2, 3, 4]  # now A has drained too, its last records came at t=0
    tasks.release_idle(hw, 0.0)  # so A owes no fresh 0.5 s wait
    driver.run()
    assert folded == [1, 2, 3, 4, 5]


def test_behind_counts_buffered_and_unfetched_records_and_is_unknown_before_a_fetch() -> None:
    """The loop publishes early profiles only within a window of the input's end."""
    driver = Driver(Processor(), lambda r: None)
    tasks = InputTasks(driver, ("clicks",), max_buffered=100, max_idle_ms=500)
    assert tasks.behind({}) is None  # nothing assigned
    tasks.assign({A: 0, B: 0})
    assert tasks.behind({A: 5}) is None  # B's high watermark not known yet
    tasks.add(A, [rec(0, 1), rec(1, 2)])
    assert tasks.behind({A: 5, B: 3}) == 2 + 3 + 3  # buffered, then not fetched on A and B
    tasks.add(B, [rec(0, 3), rec(1, 4), rec(2, 5)])
    driver.run()  # B caught up, A not: A's records fold, B's wait behind A's unfetched ones
    assert len(driver.merger) == 3
    assert tasks.behind({A: 5, B: 3}) == 3 + 3  # B's three buffered, A's three not fetched
    assert tasks.behind({A: 2, B: 3}) == 3


def test_a_record_arriving_after_its_partition_was_released_is_counted_folded_behind(
    clock: list[float],
) -> None:
    """The one way live folding leaves replay's order, made visible per task."""
    holder: list[InputTasks] = []
    driver = Driver(Processor(), lambda r: None, on_fold=lambda i: holder[0].folded(i))
    tasks = InputTasks(driver, ("clicks",), max_buffered=100, max_idle_ms=500)
    holder.append(tasks)
    tasks.assign({A: 0, B: 0})
    tasks.add(A, [rec(0, 1), rec(1, 10)])
    tasks.add(B, [rec(0, 2)])
    hw: dict[Any, int | None] = {A: 2, B: 1}
    driver.run()
    tasks.release_idle(hw, 0.0)
    driver.run()
    assert [r[3] for r in tasks.per_task().values()] == [0, 0]  # 1, 2 in order; 10 waits
    clock[0] = 0.6
    tasks.release_idle(hw, 0.6)  # B caught up and silent for 0.6 s: released, 10 folds
    driver.run()
    tasks.add(B, [rec(1, 7)])  # B's 7 comes too late: replay would have folded it before 10
    driver.run()
    tasks.add(A, [rec(2, 11)])
    tasks.add(B, [rec(2, 12)])
    driver.run()  # 11 and 12 are in order: not behind
    report = tasks.per_task()
    assert report[1][3] == 1 and report[0][3] == 0
    assert report[1][2] > 0  # B was waited for
    assert [r[3] for r in tasks.per_task().values()] == [0, 0]  # counts are since the last call
