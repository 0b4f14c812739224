"""/metrics, /healthz and /readyz over HTTP."""

from __future__ import annotations

import urllib.error
import urllib.request

from insight_stream.runtime.health import HealthServer, health_status
from insight_stream.runtime.metrics import Metrics


def get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def test_health_ready_and_metrics() -> None:
    m = Metrics()
    server = HealthServer(m, "127.0.0.1", 0, stall_timeout_s=5).start()
    try:
        m.polled()
        assert get(server.port, "/healthz")[0] == 200
        assert get(server.port, "/readyz")[0] == 503  # nothing assigned yet
        m.set_assigned(3)
        assert get(server.port, "/readyz") == (200, "ready: 3 partitions assigned\n")
        m.last_poll_monotonic -= 60  # the loop stalled
        code, body = get(server.port, "/healthz")
        assert code == 503 and "stalled" in body
        code, body = get(server.port, "/metrics")
        assert code == 200 and 'insight_stream_build_info{version="' in body
        assert get(server.port, "/nope")[0] == 404
    finally:
        server.stop()


def test_broker_silence_beyond_the_timeout_fails_health() -> None:
    m = Metrics()
    m.last_poll_monotonic = m.last_broker_monotonic = 1000.0
    m.last_poll_monotonic = 1100.0  # the loop keeps running ...
    assert health_status(m, 30, now=1101.0)[0] == 200  # ... broker not checked
    assert health_status(m, 30, now=1101.0, broker_timeout_s=200)[0] == 200
    code, body = health_status(m, 30, now=1101.0, broker_timeout_s=60)
    assert code == 503 and body.startswith("broker unreachable: no successful broker interaction")
    m.broker_seen(1090.0)
    assert health_status(m, 30, now=1101.0, broker_timeout_s=60)[0] == 200


def test_broker_seen_never_goes_back() -> None:
    m = Metrics()
    m.broker_seen(500.0)
    m.broker_seen(400.0)  # an older heartbeat answer read late
    assert m.last_broker_monotonic >= 500.0


def test_kafka_source_reads_the_last_heartbeat_answer() -> None:
    from types import SimpleNamespace

    from insight_stream.runtime.config import load_config
    from insight_stream.runtime.source import KafkaSource

    heartbeat = SimpleNamespace(last_receive=float("-inf"))
    consumer = SimpleNamespace(_coordinator=SimpleNamespace(heartbeat=heartbeat))
    source = KafkaSource(load_config({}), consumer=consumer)
    assert source.last_contact() is None  # no answer yet
    heartbeat.last_receive = 123.5
    assert source.last_contact() == 123.5
    assert KafkaSource(load_config({}), consumer=SimpleNamespace()).last_contact() is None
