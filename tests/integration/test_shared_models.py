"""Several instances of one group share their models through ``<group>.model-ops``: they hold
the same model versions and publish what one replay publishes (runtime/sharing.py)."""

from __future__ import annotations

import os
import pickle
import re
from pathlib import Path
from typing import Any

import pytest

from insight_stream.runtime.reader import read_topic

from .parity import PARITY_SHOP, Published, differences, read_published, replay_shop
from .support import Proc, feed_shop, runtime_env, settled

pytestmark = pytest.mark.integration


def versions(proc: Proc) -> dict[str, tuple[str, float]]:
    """``{model: (version, day start)}`` as the instance exports them."""
    _, text = proc.get("/metrics")
    out = {}
    for m in re.finditer(
        r'^insight_stream_model_version\{model="(\w+)",version="(\w+)"\} ([0-9.e+]+)$', text, re.M
    ):
        out[m.group(1)] = (m.group(2), float(m.group(3)))
    return out


def _group_settled(procs: list[Proc]) -> bool:
    parts = [p.metric("insight_stream_assigned_partitions") for p in procs]
    return sum(parts) == 8 and all(
        n > 0 and settled(p, int(n)) for p, n in zip(procs, parts, strict=True)
    )


def _group(
    bootstrap: str,
    start_processor: Any,
    tmp_path: Path,
    prefix: str,
    n: int,
    live: bool = False,
) -> tuple[Published, list[Proc]]:
    """The parity shop replayed, and ``n`` instances run on it: fed as a backlog before they
    start, or (``live``) produced once all of them hold partitions."""
    want = replay_shop(PARITY_SHOP, tmp_path / "replay")
    s = PARITY_SHOP

    def produce() -> None:
        feed_shop(
            bootstrap,
            prefix,
            users=s.users,
            days=s.days,
            seed=s.seed,
            malformed_rate=s.malformed_rate,
        )

    if not live:
        produce()
    # frequent changelog snapshots: a moved partition's new owner restores from its
    # predecessor's snapshot and names it in its own markers
    env = {"INSIGHT_COMMIT_INTERVAL_MS": "300", "INSIGHT_CHANGELOG_SNAPSHOT_RECORDS": "100"}
    if live:  # as in test_run_e2e.py: on a busy two-core machine a partition's producer
        env["INSIGHT_MAX_TASK_IDLE_MS"] = "5000"  # batch may trail another's by seconds
    procs = [
        start_processor(runtime_env(bootstrap, prefix, tmp_path / f"state{i}", **env))
        for i in range(n)
    ]
    if live:
        procs[0].wait_for(
            lambda: (
                sum(p.metric("insight_stream_assigned_partitions") for p in procs) == 8
                and all(p.metric("insight_stream_assigned_partitions") > 0 for p in procs)
            ),
            f"8 partitions spread over {n} instances",
            timeout=120,
        )
        produce()
    return want, procs


def test_two_instances_over_a_backlog_publish_what_replay_publishes(
    tansu_broker: str, start_processor: Any, tmp_path: Path
) -> None:
    prefix = f"sm{os.getpid()}"
    want, procs = _group(tansu_broker, start_processor, tmp_path, prefix, 2)
    procs[0].wait_for(lambda: _group_settled(procs), "both instances settled", timeout=300)
    seen = [versions(p) for p in procs]
    for p in procs:
        assert p.terminate() == 0
    assert seen[0] and seen[0] == seen[1]  # the same models at the same day start
    got = read_published(tansu_broker, prefix)
    assert len(want.alerts) > 0
    assert not differences(got, want)
    # customers were exchanged only at the day starts whose refits read them (18 of the 90
    # in replay: weekly churn labels and fits, segment refinements), not at every one
    exchanged = {
        pickle.loads(r.value[1:])["at"]
        for r in read_topic(tansu_broker, f"{prefix}.group.model-ops")
        if r.key == b"users"
    }
    assert 0 < len(exchanged) <= 30


def test_two_instances_over_live_input_publish_what_replay_publishes(
    tansu_broker: str, start_processor: Any, tmp_path: Path
) -> None:
    """The shop produced while two instances run: peers wait at each hour boundary for
    partitions still being produced, not only for a backlog's."""
    prefix = f"sl{os.getpid()}"
    want, procs = _group(tansu_broker, start_processor, tmp_path, prefix, 2, live=True)
    procs[0].wait_for(lambda: _group_settled(procs), "both instances settled", timeout=300)
    seen = [versions(p) for p in procs]
    for p in procs:
        assert p.terminate() == 0
    assert seen[0] and seen[0] == seen[1]
    got = read_published(tansu_broker, prefix)
    assert len(want.alerts) > 0
    diff = differences(got, want)
    print(f"two instances, live input: {diff or 'identical to replay'}")
    assert not diff


def test_three_instances_one_killed_keep_one_set_of_models(
    tansu_broker: str, start_processor: Any, tmp_path: Path
) -> None:
    """kill -9 of one of three mid-run: its partitions move to the others with their
    queued model ops (changelog), and the survivors still hold one set of models."""
    prefix = f"sk{os.getpid()}"
    want, procs = _group(tansu_broker, start_processor, tmp_path, prefix, 3)
    procs[0].wait_for(
        lambda: all(p.metric("insight_stream_assigned_partitions") > 0 for p in procs),
        "8 partitions spread over 3 instances",
        timeout=120,
    )
    victim = procs[2]
    victim.wait_for(
        lambda: victim.metric("insight_stream_profiles_published_total") >= 100,
        "the victim published something",
        timeout=240,
    )
    victim.kill9()
    alive = procs[:2]
    alive[0].wait_for(lambda: _group_settled(alive), "survivors settled", timeout=300)
    seen = [versions(p) for p in alive]
    restored = sum(p.metric("insight_stream_restore_users_total") for p in alive)
    for p in alive:
        assert p.terminate() == 0
    assert restored > 0
    assert seen[0] and seen[0] == seen[1]
    got = read_published(tansu_broker, prefix)
    diff = differences(got, want)
    print(f"three instances, one killed: {diff or 'identical to replay'}")
    assert not diff


def test_an_instance_joining_mid_run_takes_partitions_and_keeps_one_set_of_models(
    tansu_broker: str, start_processor: Any, tmp_path: Path
) -> None:
    """Scale-out: one instance folds the backlog alone (it exchanges nothing), a second
    joins midway; partitions move to it with their state and queued ops (changelog), and
    from then on the two share every epoch."""
    prefix = f"sj{os.getpid()}"
    want, procs = _group(tansu_broker, start_processor, tmp_path, prefix, 1)
    first = procs[0]
    first.wait_for(
        lambda: first.metric("insight_stream_profiles_published_total") >= 150,
        "the first instance well into the backlog",
        timeout=240,
    )
    env = {"INSIGHT_COMMIT_INTERVAL_MS": "300", "INSIGHT_CHANGELOG_SNAPSHOT_RECORDS": "100"}
    procs.append(start_processor(runtime_env(tansu_broker, prefix, tmp_path / "state1", **env)))
    first.wait_for(lambda: _group_settled(procs), "both instances settled", timeout=300)
    seen = [versions(p) for p in procs]
    restored = procs[1].metric("insight_stream_restore_users_total")
    for p in procs:
        assert p.terminate() == 0
    assert restored > 0  # the joiner's partitions came with their users
    assert seen[0] and seen[0] == seen[1]
    got = read_published(tansu_broker, prefix)
    diff = differences(got, want)
    print(f"one instance, a second joining: {diff or 'identical to replay'}")
    assert not diff
