"""The SQLite checkpoint: one transaction, restore by partition, lock, topic fingerprint."""

from __future__ import annotations

from pathlib import Path

import pytest

from insight_stream.runtime.checkpoint import (
    CheckpointStore,
    StateDirLockedError,
    StoreMismatchError,
)

TOPICS = ("clicks", "orders")


def test_save_and_reload_across_instances(tmp_path: Path) -> None:
    with CheckpointStore(tmp_path, TOPICS) as store:
        store.save(
            {"a": (0, b"A"), "b": (1, b"B"), "c": (-1, b"C")},
            b"shared1",
            {("clicks", 0): 10, ("orders", 1): 3},
            {("clicks", 0): 9, ("orders", 1): 3},
        )
        store.save(
            {"b": (1, None), "a": (0, b"A2")}, None, {("clicks", 0): 12}, {("clicks", 0): 11}
        )
    with CheckpointStore(tmp_path, TOPICS) as store:
        assert store.load_offsets() == {("clicks", 0): 12, ("orders", 1): 3}
        assert store.load_applied() == {("clicks", 0): 11, ("orders", 1): 3}
        assert store.load_shared() == b"shared1"  # None keeps the previous shared blob
        assert sorted(store.load_users([0])) == [("a", 0, b"A2"), ("c", -1, b"C")]
        assert sorted(store.load_users([1], include_unknown=False)) == []  # b was erased
        assert store.count_users() == 2


def test_failed_save_leaves_previous_checkpoint_intact(tmp_path: Path) -> None:
    with CheckpointStore(tmp_path, TOPICS) as store:
        store.save({"a": (0, b"A")}, b"s", {("clicks", 0): 5}, {})

        class Boom(dict):
            def items(self):  # fails midway through the transaction
                yield "z", (0, b"Z")
                raise RuntimeError("disk on fire")

        with pytest.raises(RuntimeError):
            store.save(Boom(), b"s2", {("clicks", 0): 99}, {})
        assert store.load_offsets() == {("clicks", 0): 5}
        assert store.load_shared() == b"s"
        assert [u for u, _, _ in store.load_users([0])] == ["a"]


def test_one_process_per_state_dir(tmp_path: Path) -> None:
    with (
        CheckpointStore(tmp_path, TOPICS),
        pytest.raises(StateDirLockedError, match="INSIGHT_STATE_DIR"),
    ):
        CheckpointStore(tmp_path, TOPICS)


def test_refuses_state_of_other_topics(tmp_path: Path) -> None:
    CheckpointStore(tmp_path, TOPICS).close()
    with pytest.raises(StoreMismatchError, match="clicks,orders"):
        CheckpointStore(tmp_path, ("x", "y"))


def test_state_bound_settings_are_recorded_then_enforced(tmp_path: Path) -> None:
    from insight_stream.runtime.checkpoint import StoreMismatchError

    first = {"segments.k_range": [3, 10], "recs.slots": "learned"}
    with CheckpointStore(tmp_path, ("a", "b")) as store:
        store.check_settings(first, "do X")
        store.save({"u1": (0, b"x")}, b"g", {("a", 0): 5}, {("a", 0): 4})
    with CheckpointStore(tmp_path, ("a", "b")) as store:
        store.check_settings(first, "do X")  # same values: fine
        store.check_settings({**first, "churn.time_unit_days": 7.0}, "do X")  # a new key
        with pytest.raises(StoreMismatchError) as err:
            store.check_settings({**first, "segments.k_range": [2, 8]}, "do X")
    msg = str(err.value)
    assert "segments.k_range = [3, 10] there, [2, 8] now" in msg and msg.endswith("do X")
    assert "recs.slots" not in msg


def test_a_store_without_state_adopts_new_settings(tmp_path: Path) -> None:
    with CheckpointStore(tmp_path, ("a", "b")) as store:
        store.check_settings({"segments.k_range": [3, 10]}, "do X")
    with CheckpointStore(tmp_path, ("a", "b")) as store:
        store.check_settings({"segments.k_range": [2, 8]}, "do X")  # nothing saved: no conflict
        store.save({"u1": (0, b"x")}, b"g", {("a", 0): 5}, {("a", 0): 4})
        store.check_settings({"segments.k_range": [2, 8]}, "do X")
