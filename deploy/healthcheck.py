"""Container healthcheck: exit 0 iff ``GET http://127.0.0.1:$INSIGHT_METRICS_PORT<path>`` is 200.

Used by the Dockerfile's HEALTHCHECK (the slim base has no curl). Standard library only.
Usage: ``python healthcheck.py [/healthz|/readyz]``.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request


def check(path: str = "/healthz", port: int | None = None, timeout: float = 2.0) -> int:
    """Return the process exit status for one probe (0 healthy, 1 not)."""
    port = port or int(os.environ.get("INSIGHT_METRICS_PORT", "9108"))
    url = f"http://127.0.0.1:{port}{path}"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            ok = resp.status == 200
    except (urllib.error.URLError, OSError) as exc:
        print(f"unhealthy: {url}: {exc}", file=sys.stderr)
        return 1
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(check(sys.argv[1] if len(sys.argv) > 1 else "/healthz"))
