"""``run`` and ``replay`` with the same engine settings file publish the same answers, and
those answers are not the defaults' (the settings reach the engine in both)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from insight_stream.processor.engine_file import load_engine_config
from insight_stream.replay.compare import replay_dir
from insight_stream.sim import Shop

from .parity import PARITY_SHOP, differences, read_published
from .support import feed_shop, runtime_env, settled

pytestmark = pytest.mark.integration

EAGER = "top_n = 5\n[churn]\nalert_threshold = 0.8\nreset_threshold = 0.6\nmin_value = 50\n"


def test_run_and_replay_of_one_engine_config_agree(
    tansu_broker: str, start_processor: Any, tmp_path: Path
) -> None:
    engine_file = tmp_path / "engine.toml"
    engine_file.write_text(EAGER)
    shop_dir = tmp_path / "shop"
    Shop(PARITY_SHOP).write(shop_dir)
    want = replay_dir(shop_dir, config=load_engine_config(engine_file, {}))
    default = replay_dir(shop_dir)
    assert len(want.alerts) > len(default.alerts)  # the settings matter on this shop
    some = next(iter(p for p in want.profiles.values() if p and p["recommendations"]))
    assert len(some["recommendations"]) <= 5

    prefix = f"ec{os.getpid()}"
    s = PARITY_SHOP
    feed_shop(tansu_broker, prefix, s.users, s.days, s.seed, s.malformed_rate)
    env = runtime_env(
        tansu_broker,
        prefix,
        tmp_path / "state",
        INSIGHT_COMMIT_INTERVAL_MS="300",
        INSIGHT_ENGINE_CONFIG=str(engine_file),
    )
    proc = start_processor(env)
    proc.wait_for(lambda: settled(proc), "backlog consumed and settled", timeout=240)
    assert proc.terminate() == 0
    assert not differences(read_published(tansu_broker, prefix), want)


def test_restore_from_a_changelog_built_with_other_state_settings_is_refused(
    tansu_broker: str, start_processor: Any, tmp_path: Path
) -> None:
    """A new state directory on the old group restores from the changelog: that state was
    built under the old k range, so the start stops (exit 2) naming the key."""
    prefix = f"es{os.getpid()}"
    feed_shop(tansu_broker, prefix, users=100, days=20)
    env = runtime_env(tansu_broker, prefix, tmp_path / "a", INSIGHT_COMMIT_INTERVAL_MS="200")
    first = start_processor(env)
    first.wait_for(lambda: settled(first), "first run settled", timeout=240)
    assert first.terminate() == 0
    moved = start_processor(
        {
            **env,
            "INSIGHT_STATE_DIR": str(tmp_path / "b"),  # no local state: restore from Kafka
            "INSIGHT_ENGINE__SEGMENTS__K_RANGE": "[2, 8]",
        }
    )
    assert moved.wait(120) == 2, moved.log()[-3000:]
    log = moved.log()
    assert "segments.k_range = [3, 10] there, [2, 8] now" in log
    assert f"{prefix}.group.state-changelog" in log
