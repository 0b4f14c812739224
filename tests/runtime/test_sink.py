"""Producers close promptly when the broker is gone, even with undeliverable records."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]

# Interrupted while records are pending and the broker is dead: kafka-python's own close()
# would block for the 120 s delivery timeout (at close, or again in the finalizer at exit).
SCRIPT = textwrap.dedent(
    """
    from insight_stream.runtime.broker import EmbeddedBroker
    from insight_stream.runtime.feeder import closing_producer, fast_producer

    broker = EmbeddedBroker().start()
    producer = fast_producer(broker.bootstrap)
    producer.send("t", b"first").get(timeout=10)
    broker.stop()
    futures = []
    try:
        with closing_producer(producer):
            futures = [producer.send("t", b"pending") for _ in range(100)]
            raise KeyboardInterrupt
    except KeyboardInterrupt:
        pass
    print("failed", sum(1 for f in futures if f.is_done and f.failed()), "of", len(futures))
    """
)


def test_interrupted_producer_gives_up_on_a_dead_broker() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,  # half the delivery timeout that a plain close() would wait out
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "failed 100 of 100"  # abandoned, none claimed delivered
