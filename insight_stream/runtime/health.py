"""``/metrics``, ``/healthz`` and ``/readyz`` on one port, served by a small daemon thread.

Liveness and readiness are answered from numbers the loop keeps on :class:`Metrics`
(monotonic times of the last poll and of the last successful broker interaction, partitions
assigned), so a stuck loop cannot fake health, and neither can a loop that polls a broker
that is gone.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client.exposition import CONTENT_TYPE_LATEST

from insight_stream.runtime.metrics import Metrics

log = logging.getLogger(__name__)


def health_status(
    metrics: Metrics,
    stall_timeout_s: float,
    now: float | None = None,
    broker_timeout_s: float | None = None,
) -> tuple[int, str]:
    """(HTTP status, body) of /healthz: 503 when the poll loop has not run recently, or when
    no broker interaction succeeded within ``broker_timeout_s`` (None: not checked).

    >>> m = Metrics(); m.last_poll_monotonic = m.last_broker_monotonic = 100.0
    >>> health_status(m, 30, now=110.0)[0], health_status(m, 30, now=200.0)[0]
    (200, 503)
    >>> m.last_poll_monotonic = 195.0
    >>> health_status(m, 30, now=200.0, broker_timeout_s=60)[1].split(":")[0]
    'broker unreachable'
    """
    now = time.monotonic() if now is None else now
    age = now - metrics.last_poll_monotonic
    if age > stall_timeout_s:
        return 503, f"stalled: last poll {age:.1f}s ago (limit {stall_timeout_s:g}s)\n"
    broker_age = now - metrics.last_broker_monotonic
    if broker_timeout_s is not None and broker_age > broker_timeout_s:
        return 503, (
            f"broker unreachable: no successful broker interaction for {broker_age:.1f}s "
            f"(limit {broker_timeout_s:g}s)\n"
        )
    return 200, f"ok: last poll {age:.1f}s ago, broker {broker_age:.1f}s ago\n"


def ready_status(metrics: Metrics) -> tuple[int, str]:
    """(HTTP status, body) of /readyz: 200 once the group assigned partitions to us."""
    n = metrics.partitions_assigned
    return (
        (200, f"ready: {n} partitions assigned\n")
        if n > 0
        else (503, "not ready: no partitions assigned\n")
    )


class HealthServer:
    """Serves metrics and health on ``host:port`` until :meth:`stop`; port 0 picks a free one."""

    def __init__(
        self,
        metrics: Metrics,
        host: str,
        port: int,
        stall_timeout_s: float,
        broker_timeout_s: float | None = None,
        routes: Callable[[str], tuple[int, bytes, str, dict[str, str]] | None] | None = None,
    ) -> None:
        """``routes``: more GET routes (the interactive queries); None = not one of them."""
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                if path == "/metrics":
                    self._send(200, metrics.render(), CONTENT_TYPE_LATEST)
                elif path == "/healthz":
                    code, body = health_status(
                        metrics, outer.stall_timeout_s, broker_timeout_s=outer.broker_timeout_s
                    )
                    self._send(code, body.encode())
                elif path == "/readyz":
                    code, body = ready_status(metrics)
                    self._send(code, body.encode())
                elif routes is not None and (answer := routes(path)) is not None:
                    self._send(*answer)
                else:
                    self._send(404, b"not found: try /metrics, /healthz, /readyz\n")

            def _send(
                self,
                code: int,
                body: bytes,
                ctype: str = "text/plain; charset=utf-8",
                headers: dict[str, str] | None = None,
            ) -> None:
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                log.debug("http %s", format % args)

        self.stall_timeout_s = stall_timeout_s
        self.broker_timeout_s = broker_timeout_s
        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="health-http", daemon=True
        )

    def start(self) -> HealthServer:
        self._thread.start()
        log.info("metrics and health on port %d (/metrics /healthz /readyz)", self.port)
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
