"""Three instances in one group, one killed mid-run, with shared models switched *off*
(``INSIGHT_SHARE_MODELS=false``): its partitions move, are restored from the changelog (the
others have no local state for them), and every customer's own facts equal replay's. Each
instance then learns its models from its own partitions, so model-derived fields (segment,
risk, recommendations) differ; the test records by how much. With models shared (the
default) the outputs equal replay's: tests/integration/test_shared_models.py."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from .parity import PARITY_SHOP, read_published, replay_shop
from .support import feed_shop, kill_one_of, runtime_env, settled, shop_kwargs

pytestmark = pytest.mark.integration

FACTS = ("orders", "returns", "cancellations", "sessions", "first_seen", "last_seen")


def facts(profile: dict[str, Any]) -> tuple[Any, ...]:
    rfm = profile["rfm"]
    return (*(profile[f] for f in FACTS), rfm["frequency"], round(rfm["monetary"], 6))


def test_three_instances_one_killed_per_user_facts_equal_replay(
    tansu_broker: str, start_processor: Any, tmp_path: Path
) -> None:
    prefix = f"so{os.getpid()}"
    want = replay_shop(PARITY_SHOP, tmp_path / "replay")
    feed_shop(tansu_broker, prefix, **shop_kwargs(PARITY_SHOP))

    def env(i: int) -> dict[str, str]:
        return runtime_env(
            tansu_broker,
            prefix,
            tmp_path / f"state{i}",
            INSIGHT_COMMIT_INTERVAL_MS="300",
            INSIGHT_SHARE_MODELS="false",
        )

    alive = kill_one_of([start_processor(env(i)) for i in range(3)])

    def survivors_settled() -> bool:  # the 8 partitions are split over the two
        parts = [p.metric("insight_stream_assigned_partitions") for p in alive]
        return sum(parts) == 8 and all(
            settled(p, int(n)) for p, n in zip(alive, parts, strict=True)
        )

    alive[0].wait_for(survivors_settled, "survivors took over and settled", timeout=300)
    restored = sum(p.metric("insight_stream_restore_users_total") for p in alive)
    for p in alive:
        assert p.terminate() == 0
    assert restored > 0  # the victim's partitions came back from the changelog
    got = read_published(tansu_broker, prefix)
    assert set(got.profiles) == set(want.profiles)
    diff = {
        u: (facts(got.profiles[u]), facts(want.profiles[u]))
        for u in want.profiles
        if got.profiles[u] is not None and facts(got.profiles[u]) != facts(want.profiles[u])
    }
    assert not diff, list(diff.items())[:3]
    model_diff = sum(1 for u in want.profiles if got.profiles[u] != want.profiles[u])
    print(
        f"scale-out: {model_diff} of {len(want.profiles)} final profiles differ in "
        f"model-derived fields; alerts {len(got.alerts)} vs {len(want.alerts)} in replay"
    )
