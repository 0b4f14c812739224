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
from .support import Proc, feed_shop, kill_one_of, runtime_env, settled, shop_kwargs, spread

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


# frequent changelog snapshots: a moved partition's new owner restores from its predecessor's
# snapshot and names it in its own markers; every idle user packed (processor/users.py), which
# replay's default (a 600-user shop, far below pack_users_above) never does: packing must
# change nothing, through exchanges, kills and joins
ENV = {
    "INSIGHT_COMMIT_INTERVAL_MS": "300",
    "INSIGHT_CHANGELOG_SNAPSHOT_RECORDS": "100",
    "INSIGHT_ENGINE__PACK_USERS_ABOVE": "0",
}
LIVE = {"INSIGHT_MAX_TASK_IDLE_MS": "5000"}  # as in test_run_e2e.py: on a busy two-core
# machine a partition's producer batch may trail another's by seconds


def _start(
    bootstrap: str, start_processor: Any, tmp_path: Path, prefix: str, i: int, live: bool = False
) -> Proc:
    env = runtime_env(bootstrap, prefix, tmp_path / f"state{i}", **ENV, **(LIVE if live else {}))
    return start_processor(env)


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

    def produce() -> None:
        feed_shop(bootstrap, prefix, **shop_kwargs(PARITY_SHOP))

    if not live:
        produce()
    procs = [_start(bootstrap, start_processor, tmp_path, prefix, i, live) for i in range(n)]
    if live:
        spread(procs)
        produce()
    return want, procs


def _identical_to_replay(
    procs: list[Proc], bootstrap: str, prefix: str, want: Published, what: str
) -> float:
    """Wait until the group settled, stop it, and check it held one set of models and
    published replay's alerts and last profiles; returns the users it restored."""
    procs[0].wait_for(lambda: _group_settled(procs), f"{what}: settled", timeout=300)
    seen = [versions(p) for p in procs]
    restored = sum(p.metric("insight_stream_restore_users_total") for p in procs)
    for p in procs:
        assert p.terminate() == 0
    assert seen[0] and all(s == seen[0] for s in seen)  # the same models at each day start
    got = read_published(bootstrap, prefix)
    assert len(want.alerts) > 0
    diff = differences(got, want)
    print(f"{what}: {diff or 'identical to replay'}")
    assert not diff
    return restored


def test_two_instances_over_a_backlog_publish_what_replay_publishes(
    tansu_broker: str, start_processor: Any, tmp_path: Path
) -> None:
    prefix = f"sm{os.getpid()}"
    want, procs = _group(tansu_broker, start_processor, tmp_path, prefix, 2)
    _identical_to_replay(procs, tansu_broker, prefix, want, "two instances, backlog")
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
    _identical_to_replay(procs, tansu_broker, prefix, want, "two instances, live input")


def test_three_instances_one_killed_keep_one_set_of_models(
    tansu_broker: str, start_processor: Any, tmp_path: Path
) -> None:
    """kill -9 of one of three mid-run: its partitions move to the others with their
    queued model ops (changelog), and the survivors still hold one set of models."""
    prefix = f"sk{os.getpid()}"
    want, procs = _group(tansu_broker, start_processor, tmp_path, prefix, 3)
    alive = kill_one_of(procs)
    restored = _identical_to_replay(alive, tansu_broker, prefix, want, "three, one killed")
    assert restored > 0


def test_an_instance_joining_mid_run_takes_partitions_and_keeps_one_set_of_models(
    tansu_broker: str, start_processor: Any, tmp_path: Path
) -> None:
    """Scale-out: one instance folds the backlog alone (it exchanges nothing), a second
    joins midway; partitions move to it with their state and queued ops (changelog), and
    from then on the two share every epoch."""
    prefix = f"sj{os.getpid()}"
    want, procs = _group(tansu_broker, start_processor, tmp_path, prefix, 1)
    procs[0].wait_for(
        lambda: procs[0].metric("insight_stream_profiles_published_total") >= 150,
        "the first instance well into the backlog",
        timeout=240,
    )
    procs.append(_start(tansu_broker, start_processor, tmp_path, prefix, 1))
    restored = _identical_to_replay(procs, tansu_broker, prefix, want, "a second joining")
    assert restored > 0  # the joiner's partitions came with their users
