"""A broker lost after start turns /healthz to 503 once INSIGHT_BROKER_TIMEOUT_S passes,
while the process keeps running and retrying (it does not exit, and polls on)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from insight_stream.runtime.broker import EmbeddedBroker

from .support import feed_shop, runtime_env

pytestmark = pytest.mark.integration


def test_broker_lost_after_start_fails_healthz(start_processor: Any, tmp_path: Path) -> None:
    prefix = f"health{os.getpid()}"
    with EmbeddedBroker() as broker:
        fed, _ = feed_shop(broker.bootstrap, prefix, users=30, days=10)
        proc = start_processor(
            runtime_env(
                broker.bootstrap,
                prefix,
                tmp_path / "state",
                INSIGHT_BROKER_TIMEOUT_S="4",
                INSIGHT_STALL_TIMEOUT_S="600",  # only the broker check can fail health here
            )
        )
        proc.wait_consumed(fed.total)
        proc.wait_for(lambda: proc.get("/readyz")[0] == 200, "partitions assigned")
        assert proc.get("/healthz")[0] == 200
        broker.stop()
        proc.wait_for(lambda: proc.get("/healthz")[0] == 503, "/healthz 503 without a broker")
        code, body = proc.get("/healthz")
        assert code == 503 and body.startswith("broker unreachable"), body
        assert proc.p.poll() is None  # still running, still retrying
        polled = proc.metric("insight_stream_last_poll_timestamp_seconds")
        proc.wait_for(
            lambda: proc.metric("insight_stream_last_poll_timestamp_seconds") > polled,
            "the poll loop going on",
        )
