"""`insight-stream demo`: Ctrl-C mid-run stops everything and leaves no broker behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def _tansu_pids() -> set[int]:
    pids = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmd = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if b"tansu" in cmd and b"broker" in cmd:
                pids.add(int(entry.name))
    return pids


def test_ctrl_c_mid_demo_leaves_no_process_behind(tmp_path: Path) -> None:
    before = _tansu_pids()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONFAULTHANDLER": "1"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "insight_stream.cli.main",
            "demo",
            "--users",
            "1500",
            "--days",
            "90",
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        # wait until the broker is up and the demo is producing or processing
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (_tansu_pids() - before):
            time.sleep(0.1)
        mine = _tansu_pids() - before
        assert mine, "the demo did not start its broker"
        time.sleep(2.0)
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal sends
        try:
            out, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGABRT)  # faulthandler prints every thread's stack
            out, _ = proc.communicate(timeout=10)
            raise AssertionError("the demo hung after Ctrl-C:\n" + out.decode()[-6000:]) from None
        assert b"Traceback" not in out, out.decode(errors="replace")[-2000:]
        assert proc.returncode in (0, 130), proc.returncode
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (mine & _tansu_pids()):
            time.sleep(0.1)
        assert not (mine & _tansu_pids()), "the broker outlived the demo"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
