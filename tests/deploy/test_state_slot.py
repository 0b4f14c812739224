"""deploy/state_slot.py: replicas on one state volume each get their own, locked directory."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from pathlib import Path

from deploy_support import DEPLOY

SCRIPT = DEPLOY / "state_slot.py"

# Run by the slot script: report the state dir it was given and whether its lock is still held.
PROBE = """
import fcntl, os, sys
state = os.environ["INSIGHT_STATE_DIR"]
fd = os.open(state + ".lock", os.O_RDWR)
try:
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    held = "free"
except BlockingIOError:
    held = "held"
print(state, held)
"""


def run_slot(root: Path) -> tuple[str, str]:
    env = {**os.environ, "INSIGHT_STATE_DIR": str(root)}
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), sys.executable, "-c", PROBE],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    state, held = proc.stdout.split()
    return state, held


def test_first_free_slot_is_taken_and_its_lock_survives_exec(tmp_path: Path) -> None:
    state, held = run_slot(tmp_path)
    assert state == str(tmp_path / "slot-0") and Path(state).is_dir()
    assert held == "held"  # the command itself holds the slot while it runs


def test_a_slot_in_use_is_skipped(tmp_path: Path) -> None:
    busy = os.open(tmp_path / "slot-0.lock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(busy, fcntl.LOCK_EX | fcntl.LOCK_NB)  # another replica runs on slot-0
        state, _ = run_slot(tmp_path)
        assert state == str(tmp_path / "slot-1")
    finally:
        os.close(busy)
    state, _ = run_slot(tmp_path)
    assert state == str(tmp_path / "slot-0")  # freed when that replica stopped: reused
