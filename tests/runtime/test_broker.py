"""The embedded broker starts, serves Kafka, and leaves nothing behind."""

from __future__ import annotations

import os

import pytest
from kafka import KafkaAdminClient

from insight_stream.runtime.broker import EmbeddedBroker

pytestmark = pytest.mark.integration


def test_start_serve_stop_kills_process_group() -> None:
    with EmbeddedBroker() as broker:
        pid = broker._proc.pid  # type: ignore[union-attr]
        admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap)
        admin.create_topics({"x": {"num_partitions": 1, "replication_factor": 1}})
        assert "x" in admin.list_topics()
        admin.close()
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)
