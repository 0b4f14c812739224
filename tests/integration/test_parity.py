"""``insight-stream run`` publishes what ``insight-stream replay`` publishes, on the same input:
the same alert ids and contents and the same last profile per user, whether the input is a
backlog, read through repeated ``kill -9``, or restored from the changelog after the local
state is lost. (Produced live: ``test_run_e2e.py``.)"""

from __future__ import annotations

import os
import random
import shutil
from pathlib import Path
from typing import Any

import pytest

from insight_stream.replay.compare import replay_dir

from .parity import PARITY_SHOP, Published, differences, read_published, replay_shop
from .support import feed_shop, runtime_env, settled, shop_kwargs

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def expected(tmp_path_factory: pytest.TempPathFactory) -> Published:
    want = replay_shop(PARITY_SHOP, tmp_path_factory.mktemp("parity-replay"))
    assert len(want.alerts) >= 50  # the comparison is about something
    return want


def _env(bootstrap: str, prefix: str, tmp: Path, **extra: str) -> dict[str, str]:
    return runtime_env(bootstrap, prefix, tmp / "state", INSIGHT_COMMIT_INTERVAL_MS="300", **extra)


def test_backlog_equals_replay(
    tansu_broker: str, start_processor: Any, tmp_path: Path, expected: Published
) -> None:
    prefix = f"pb{os.getpid()}"
    feed_shop(tansu_broker, prefix, **shop_kwargs(PARITY_SHOP))
    # small merge buffers: partitions are paused and resumed all the time
    proc = start_processor(_env(tansu_broker, prefix, tmp_path, INSIGHT_MAX_BUFFERED="300"))
    proc.wait_for(lambda: settled(proc), "backlog consumed and settled", timeout=240)
    assert proc.terminate() == 0
    got = read_published(tansu_broker, prefix)
    assert not differences(got, expected)
    assert got.dlq == expected.dlq


def test_ten_kill_9_then_restart_equals_replay(
    tansu_broker: str, start_processor: Any, tmp_path: Path, expected: Published
) -> None:
    prefix = f"pk{os.getpid()}"
    fed, _ = feed_shop(tansu_broker, prefix, **shop_kwargs(PARITY_SHOP))
    env = _env(tansu_broker, prefix, tmp_path, INSIGHT_BATCH_SIZE="500")
    rnd = random.Random(8)
    for _ in range(10):
        proc = start_processor(env)
        # killed at a random point of its own progress: mid-poll, mid-fold or mid-commit
        proc.wait_consumed(rnd.randint(300, fed.total // 8), timeout=240)
        proc.kill9()
    last = start_processor(env)
    last.wait_for(lambda: settled(last), "restarted run settled", timeout=240)
    assert last.terminate() == 0
    got = read_published(tansu_broker, prefix)
    assert not differences(got, expected)


def test_state_lost_mid_run_is_restored_from_the_changelog(
    tansu_broker: str, start_processor: Any, tmp_path: Path, expected: Published
) -> None:
    """kill -9, then the state directory is gone: the restart restores from Kafka, not
    from offset 0, and still publishes exactly what replay publishes."""
    prefix = f"pc{os.getpid()}"
    fed, _ = feed_shop(tansu_broker, prefix, **shop_kwargs(PARITY_SHOP))
    # snapshots every ~100 changes per partition: the restore reads the last one and what
    # follows it (runtime/snapshots.py)
    env = _env(
        tansu_broker,
        prefix,
        tmp_path,
        INSIGHT_BATCH_SIZE="1000",
        INSIGHT_CHANGELOG_SNAPSHOT_RECORDS="100",
    )
    first = start_processor(env)
    first.wait_for(  # well into the input, several checkpoints written
        lambda: first.metric("insight_stream_profiles_published_total") >= 1500,
        "half of the profiles published",
        timeout=240,
    )
    first.kill9()
    shutil.rmtree(tmp_path / "state")
    second = start_processor(env)
    second.wait_for(lambda: settled(second), "restored run settled", timeout=240)
    restored = second.metric("insight_stream_restore_users_total")
    read = second.metric("insight_stream_restore_records_total")
    consumed = second.metric("insight_stream_events_consumed_total")
    assert second.terminate() == 0
    assert "changelog: snapshot of partitions" in first.log()
    assert restored > 100  # users came back from the changelog ...
    assert read < 2 * restored  # ... from snapshots, not every value each user ever had
    assert consumed < fed.total  # ... and the input was not read again from the start
    got = read_published(tansu_broker, prefix)
    assert not differences(got, expected)


def test_pseudonymous_ids_through_kill_9_equal_replay_with_the_key(
    tansu_broker: str, start_processor: Any, tmp_path: Path
) -> None:
    """With INSIGHT_PSEUDONYMIZE_KEY set on both sides, run (killed twice, state restored)
    publishes what replay publishes, and no published id is an original one."""
    from insight_stream.events.pseudonym import Pseudonymizer
    from insight_stream.sim import Shop

    key = "parity-test-key-0123456789abcdef"
    pz = Pseudonymizer(key)
    Shop(PARITY_SHOP).write(tmp_path / "input")
    want = replay_dir(tmp_path / "input", pseudonymizer=pz)
    prefix = f"pp{os.getpid()}"
    fed, shop = feed_shop(tansu_broker, prefix, **shop_kwargs(PARITY_SHOP))
    env = _env(tansu_broker, prefix, tmp_path, INSIGHT_PSEUDONYMIZE_KEY=key)
    for n in (1, 2):
        proc = start_processor(env)
        proc.wait_consumed(n * fed.total // 3, timeout=240)
        proc.kill9()
    last = start_processor(env)
    last.wait_for(lambda: settled(last), "restarted run settled", timeout=240)
    assert last.terminate() == 0
    got = read_published(tansu_broker, prefix)
    assert not differences(got, want)  # (the DLQ is at-least-once across kill -9)
    originals = {c.uid for c in shop.customers}
    assert set(got.profiles) == {pz.id(u) for u in originals} & set(got.profiles)
    assert not set(got.profiles) & originals and len(want.alerts) >= 50
