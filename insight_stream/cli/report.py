"""``--json PATH`` output shared by the measuring commands (evaluate, bench)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import orjson


def write_json_report(path: str | None, report: dict[str, Any]) -> None:
    """Write ``report`` as indented JSON to ``path`` (no-op when None) and say so on stderr."""
    if path:
        Path(path).write_bytes(
            orjson.dumps(report, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS)
        )
        print(f"wrote {path}", file=sys.stderr)
