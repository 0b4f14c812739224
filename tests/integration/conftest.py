"""Fixtures for end-to-end tests (helpers live in ``support.py``)."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from insight_stream.runtime.broker import free_port

from .support import Proc


@pytest.fixture
def start_processor(tmp_path: Path) -> Iterator[Callable[..., Proc]]:
    """``start_processor(env)`` -> Proc; every child is killed at teardown."""
    procs: list[Proc] = []

    def start(env: dict[str, str]) -> Proc:
        full = {
            "INSIGHT_METRICS_PORT": str(free_port()),
            "INSIGHT_METRICS_HOST": "127.0.0.1",
            "INSIGHT_SESSION_TIMEOUT_MS": "3000",
            "INSIGHT_HEARTBEAT_INTERVAL_MS": "500",
            "INSIGHT_LOG_LEVEL": "INFO",
            **env,
        }
        proc = Proc(full, tmp_path / f"processor-{len(procs)}.log")
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        if proc.p.poll() is None:
            os.killpg(proc.p.pid, signal.SIGKILL)
            proc.p.wait(10)
