"""``insight-stream run`` CLI: help lists every setting, bad settings and misfit topics exit 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from insight_stream.runtime.config import SETTINGS

REPO = Path(__file__).resolve().parents[2]


def cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "insight_stream.cli.main", *args],
        env=full,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_help_documents_every_setting() -> None:
    out = cli("run", "--help").stdout
    for s in SETTINGS:
        assert s.env in out and s.flag in out


def test_bad_settings_exit_2_naming_them() -> None:
    res = cli("run", "--partitions", "0", env={"INSIGHT_LOG_FORMAT": "yaml"})
    assert res.returncode == 2
    assert "INSIGHT_PARTITIONS (--partitions): must be >= 1" in res.stderr
    assert "INSIGHT_LOG_FORMAT" in res.stderr


@pytest.mark.integration
def test_existing_topics_that_do_not_fit_stop_the_start(
    tansu_broker: str, create_topics: object, unique: object, tmp_path: Path
) -> None:
    clicks, orders = unique("clicks"), unique("orders")  # type: ignore[operator]
    create_topics([clicks, orders], partitions=2)  # type: ignore[operator]
    res = cli(
        "run",
        "--metrics-port",
        "0",
        env={
            "INSIGHT_BOOTSTRAP_SERVERS": tansu_broker,
            "INSIGHT_CLICKSTREAM_TOPIC": clicks,
            "INSIGHT_ORDERS_TOPIC": orders,
            "INSIGHT_STATE_DIR": str(tmp_path),
            "INSIGHT_PARTITIONS": "4",
        },
    )
    assert res.returncode == 2, res.stderr[-2000:]
    assert (
        f"topic {clicks} has 2 partitions but INSIGHT_PARTITIONS (--partitions) is 4" in res.stderr
    )


def test_removed_sasl_password_flag_says_why() -> None:
    res = cli("run", "--sasl-password", "hunter2")
    assert res.returncode == 2
    assert "--sasl-password was removed" in res.stderr and "ps" in res.stderr
    assert "INSIGHT_SASL_PASSWORD_FILE" in res.stderr


def test_unknown_insight_variable_stops_the_start() -> None:
    res = cli("run", env={"INSIGHT_BATCH_SIZ": "10"})
    assert res.returncode == 2
    assert "did you mean INSIGHT_BATCH_SIZE?" in res.stderr
