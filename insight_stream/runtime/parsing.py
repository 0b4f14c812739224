"""Parsing one raw setting value (env string or flag) by its kind; raises ValueError."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from insight_stream.events.timestamps import to_epoch_ms
from insight_stream.runtime.settings import Setting

_TOPIC_RE = re.compile(r"^[A-Za-z0-9._-]{1,249}$")
_DURATION_RE = re.compile(r"^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$")
_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
PARSED_DEFAULTS = ("duration", "timestamp")  # kinds whose default is written like the env value


def parse_bool(text: str) -> bool:
    low = text.strip().lower()
    if low in ("1", "true", "yes", "on"):
        return True
    if low in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"expected true/false, got {text!r}")


def parse_value(setting: Setting, raw: Any) -> Any:
    """Parse one raw value (env string or flag value) for ``setting``; raises ValueError."""
    if raw is None or (isinstance(raw, str) and raw.strip() == "" and setting.default is None):
        return None
    kind = setting.kind
    if kind == "bool":
        return raw if isinstance(raw, bool) else parse_bool(str(raw))
    if kind in ("int", "float"):
        conv: Callable[[Any], Any] = int if kind == "int" else float
        try:
            value = conv(str(raw).strip()) if isinstance(raw, str) else conv(raw)
        except ValueError:
            raise ValueError(f"expected a number, got {raw!r}") from None
        if value != value:  # NaN
            raise ValueError("expected a number, got NaN")
        if setting.minimum is not None and value < setting.minimum:
            raise ValueError(f"must be >= {setting.minimum:g}, got {value}")
        if setting.maximum is not None and value > setting.maximum:
            raise ValueError(f"must be <= {setting.maximum:g}, got {value}")
        return value
    text = str(raw).strip()
    if kind == "duration":
        return _parse_duration(setting, text)
    if kind == "timestamp":
        try:
            return to_epoch_ms(int(text) if text.lstrip("-").isdigit() else text)
        except ValueError:
            raise ValueError(f"expected ISO-8601 or epoch ms, got {text!r}") from None
    if kind == "choice":
        match = {c.lower(): c for c in setting.choices}.get(text.lower())
        if match is None:
            raise ValueError(f"must be one of {', '.join(setting.choices)}, got {text!r}")
        return match
    if kind == "topic":
        if not _TOPIC_RE.match(text) or text in (".", ".."):
            raise ValueError(f"not a legal Kafka topic name: {text!r} (letters, digits, . _ -)")
        return text
    if kind == "path":
        if not text:
            raise ValueError("must not be empty")
        return Path(text)
    if kind == "file":
        if not Path(text).is_file():
            raise ValueError(f"file not found: {text}")
        return text
    if not text:
        raise ValueError("must not be empty")
    return text


def parse_duration(text: str) -> int:
    """``1d``, ``12h``, ``30m``, ``90s``, ``500ms`` or a bare number of seconds -> ms.

    >>> parse_duration("1d"), parse_duration("90"), parse_duration("250ms")
    (86400000, 90000, 250)
    """
    match = _DURATION_RE.match(text.strip().lower())
    if match is None:
        raise ValueError(f"expected a duration (1d, 12h, 30m, 90s, 500ms or seconds), got {text!r}")
    return round(float(match.group(1)) * _UNIT_MS[match.group(2) or "s"])


def _parse_duration(setting: Setting, text: str) -> int:
    value = parse_duration(text)
    if setting.maximum is not None and value > setting.maximum:
        raise ValueError(f"must be <= {setting.maximum / 86_400_000:g}d, got {text!r}")
    return value
