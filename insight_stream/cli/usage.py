"""Usage errors: a command given arguments it cannot work with exits 2, like argparse."""

from __future__ import annotations

EXIT_USAGE = 2


class UsageError(Exception):
    """Bad arguments or settings; ``main`` prints ``insight-stream <command>: <message>``."""
