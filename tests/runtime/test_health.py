"""/metrics, /healthz and /readyz over HTTP."""

from __future__ import annotations

import urllib.error
import urllib.request

from insight_stream.runtime.health import HealthServer
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
