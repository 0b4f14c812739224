"""``insight-stream run`` CLI: help lists every setting, bad settings and misfit topics exit 2."""

from __future__ import annotations

import os
import re
import signal
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
        assert re.search(rf"\b{s.env}\b", out), s.env
        if s.env_only:
            assert not re.search(rf"{s.flag}\b(?!-)", out), s.flag
        else:
            assert re.search(rf"{s.flag}\b(?!-)", out), s.flag
    assert "--engine-config" in out and "143" in out and "5 no broker reachable" in out


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


def test_unreachable_broker_exits_5_naming_the_address(tmp_path: Path) -> None:
    res = cli(
        "run",
        "--bootstrap-servers",
        "127.0.0.1:1",
        "--broker-timeout-s",
        "1",
        "--metrics-port",
        "0",
        "--state-dir",
        str(tmp_path),
    )
    assert res.returncode == 5, res.stderr[-2000:]
    assert "cannot reach the Kafka broker at 127.0.0.1:1 within 1s" in res.stderr
    assert "INSIGHT_BROKER_TIMEOUT_S" in res.stderr


def test_restart_with_other_state_bound_settings_is_refused(tmp_path: Path) -> None:
    from insight_stream.processor import EngineConfig
    from insight_stream.processor.engine_file import state_settings
    from insight_stream.runtime.checkpoint import CheckpointStore

    with CheckpointStore(tmp_path, ("shop.clickstream", "shop.orders")) as store:
        store.check_settings(state_settings(EngineConfig()), "")  # as a default run does
        store.save({"u1": (0, b"x")}, b"g", {("shop.orders", 0): 5}, {("shop.orders", 0): 4})
    args = ("run", "--bootstrap-servers", "127.0.0.1:1", "--broker-timeout-s", "0.5")
    env = {"INSIGHT_METRICS_PORT": "0", "INSIGHT_STATE_DIR": str(tmp_path)}
    changed = cli(*args, env={**env, "INSIGHT_ENGINE__SEGMENTS__K_RANGE": "[2, 8]"})
    assert changed.returncode == 2, changed.stderr[-2000:]
    assert "segments.k_range = [3, 10] there, [2, 8] now" in changed.stderr
    assert "new INSIGHT_STATE_DIR and INSIGHT_GROUP_ID" in changed.stderr
    harmless = cli(*args, env={**env, "INSIGHT_ENGINE__CHURN__MIN_VALUE": "50"})
    assert harmless.returncode == 5  # not state-bound: accepted (then no broker)


def test_bad_engine_settings_exit_2_with_the_runtime_errors() -> None:
    res = cli("run", "--partitions", "0", env={"INSIGHT_ENGINE__TOP_N": "0"})
    assert res.returncode == 2
    assert "INSIGHT_PARTITIONS (--partitions): must be >= 1" in res.stderr
    assert "INSIGHT_ENGINE__TOP_N: top_n = 0" in res.stderr


SLOW_STOP = """
import threading, time
from insight_stream.cli.run import install_stop_signals
stop = threading.Event()
install_stop_signals(stop)
print("ready", flush=True)
stop.wait()
print("stopping", flush=True)
time.sleep(120)  # a graceful stop that takes its time (e.g. a broker that does not answer)
print("stopped", flush=True)
"""


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_second_signal_while_stopping_exits_143(sig: signal.Signals) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", SLOW_STOP],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        proc.send_signal(sig)
        assert proc.stdout.readline().strip() == "stopping"  # the first one stops gracefully
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 143, err
        assert "stopped" not in out
    finally:
        if proc.poll() is None:
            proc.kill()
