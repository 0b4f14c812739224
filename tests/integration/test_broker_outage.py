"""The broker is down for 20 s mid-run and comes back *with* its data (Tansu's S3 storage on a
local ``moto_server``): the processor waits, resumes, loses nothing, folds nothing twice, and
publishes what a replay of the whole input publishes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from insight_stream.events import decode
from insight_stream.replay.compare import differences, replay_dir
from insight_stream.runtime.broker import EmbeddedBroker, free_port
from insight_stream.sim import Shop, SimConfig

from .parity import read_published
from .support import feed_shop, runtime_env, settled

pytestmark = pytest.mark.integration

SHOP = SimConfig(users=150, days=45, seed=9, malformed_rate=0.01)


@pytest.fixture
def s3() -> Iterator[dict[str, str]]:
    """A local S3 endpoint with bucket ``tansu``; yields the env Tansu needs."""
    import boto3

    port = free_port()
    server = Path(sys.executable).with_name("moto_server")
    proc = subprocess.Popen(
        [str(server), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    client = boto3.client(
        "s3",
        endpoint_url=url,
        aws_access_key_id="t",
        aws_secret_access_key="t",
        region_name="us-east-1",
    )
    deadline = time.monotonic() + 20
    while True:
        try:
            client.create_bucket(Bucket="tansu")
            break
        except Exception:
            if time.monotonic() > deadline:
                proc.kill()
                raise
            time.sleep(0.2)
    try:
        yield {
            "AWS_ACCESS_KEY_ID": "t",
            "AWS_SECRET_ACCESS_KEY": "t",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ENDPOINT": url,
            "AWS_ALLOW_HTTP": "true",
        }
    finally:
        proc.kill()
        proc.wait(10)


def test_broker_down_20s_then_back_with_data_loses_nothing(
    s3: dict[str, str], start_processor: Any, tmp_path: Path
) -> None:
    events = list(Shop(SHOP).events())
    half = len(events) // 2
    Shop(SHOP).write(tmp_path / "shop")
    want = replay_dir(tmp_path / "shop", now_ms=int(time.time() * 1000))
    prefix = f"out{os.getpid()}"
    with EmbeddedBroker(storage="s3://tansu/", env=s3) as broker:
        feed_shop(broker.bootstrap, prefix, users=1, events=events[:half])
        proc = start_processor(
            runtime_env(
                broker.bootstrap, prefix, tmp_path / "state", INSIGHT_COMMIT_INTERVAL_MS="200"
            )
        )
        proc.wait_for(lambda: proc.metric("insight_stream_settled") == 1, "first half settled")
        broker.stop()
        time.sleep(20)
        assert proc.p.poll() is None  # it waits for the broker, it does not give up
        broker.start()  # same port, same bucket: the data is still there
        _fed, _ = feed_shop(broker.bootstrap, prefix, users=1, events=events[half:])
        proc.wait_consumed(len(events), timeout=240)  # both halves reached the engine
        last = max(e.ts for e in map(decode, (raw for _, raw in events)) if hasattr(e, "ts"))
        proc.wait_for(  # every record folded: settled alone was once read before the end
            lambda: proc.metric("insight_stream_last_event_timestamp_seconds") * 1000 >= last - 1,
            "the last event folded",
            timeout=240,
        )
        time.sleep(1.0)  # > commit interval: the gauges now describe the last records

        proc.wait_for(lambda: settled(proc), "second half settled after the outage", timeout=240)
        errors = proc.metric("insight_stream_broker_errors_total")
        assert proc.terminate(timeout=20) == 0
        got = read_published(broker.bootstrap, prefix)
    assert errors > 0  # the outage was seen
    assert not differences(got, want)  # nothing lost, nothing twice: exactly replay's output
