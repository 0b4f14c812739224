"""Logging set-up for the runtime: human text by default, one JSON object per line on request.

JSON lines carry ``ts``, ``level``, ``logger``, ``msg`` and any ``extra`` fields so log
shippers can index them without parsing free text.
"""

from __future__ import annotations

import logging
import sys
import time

import orjson

_STD = set(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per record.

    >>> rec = logging.makeLogRecord({"msg": "hi %s", "args": ("x",), "levelname": "INFO"})
    >>> JsonFormatter().format(rec).startswith('{"ts":')
    True
    """

    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STD and not key.startswith("_"):
                out[key] = value
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(out, default=str).decode()


def configure_logging(fmt: str = "text", level: str = "INFO") -> None:
    """Route all logs to stderr in ``fmt`` (text|json); kafka-python is kept at WARNING."""
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("kafka").setLevel(max(logging.WARNING, logging.getLevelName(level)))
