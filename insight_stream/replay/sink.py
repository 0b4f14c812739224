"""JSONL file sink: the file-based twin of the Kafka output topics.

It takes the same routed records as the Kafka sink (:mod:`insight_stream.processor.router`)
and writes ``profiles.jsonl`` (a tombstone as ``{"user_id", "deleted": true}``),
``alerts.jsonl`` and ``dlq.jsonl`` (the DLQ record form of ``schemas/dlq-record.v1.json``).
"""

from __future__ import annotations

import base64
from pathlib import Path
from types import TracebackType
from typing import Any

import orjson

from insight_stream.processor.router import Headers, Router

_OPTS = orjson.OPT_APPEND_NEWLINE


class JsonlSink:
    """Writes the three outputs under ``out_dir``; with ``keep_latest`` also keeps the latest
    profile per user and every alert in memory (for summaries)."""

    def __init__(
        self, out_dir: Path, keep_latest: bool = True, router: Router | None = None
    ) -> None:
        out_dir.mkdir(parents=True, exist_ok=True)
        self.out_dir = out_dir
        self.router = router or Router()
        r = self.router
        self._files = {
            r.profiles: (out_dir / "profiles.jsonl").open("wb"),
            r.alerts: (out_dir / "alerts.jsonl").open("wb"),
            r.dlq: (out_dir / "dlq.jsonl").open("wb"),
        }
        self.keep_latest = keep_latest
        self.latest: dict[str, dict[str, Any]] = {}
        self.alerts: list[dict[str, Any]] = []
        self.counts = dict.fromkeys(self._files, 0)

    def send(
        self, topic: str, key: bytes | None, value: bytes | None, headers: Headers | None = None
    ) -> None:
        """Write one routed record to the file of its topic."""
        fh = self._files[topic]
        self.counts[topic] += 1
        r = self.router
        if topic == r.dlq:
            fh.write(orjson.dumps(_dlq_line(key, value, headers or []), option=_OPTS))
            return
        if value is None:
            uid = (key or b"").decode()
            fh.write(orjson.dumps({"user_id": uid, "deleted": True}, option=_OPTS))
            self.latest.pop(uid, None)
            return
        fh.write(value)
        fh.write(b"\n")
        if self.keep_latest:
            doc = orjson.loads(value)
            if topic == r.profiles:
                self.latest[doc["user_id"]] = doc
            else:
                self.alerts.append(doc)

    def close(self) -> None:
        for fh in self._files.values():
            fh.close()

    def __enter__(self) -> JsonlSink:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _dlq_line(key: bytes | None, value: bytes | None, headers: Headers) -> dict[str, Any]:
    h = {name: v.decode("utf-8", "replace") for name, v in headers}

    def num(name: str) -> int | None:
        text = h.get(name, "None")
        return None if text == "None" else int(text)

    return {
        "source_topic": h.get("source_topic", ""),
        "partition": num("source_partition"),
        "offset": num("source_offset"),
        "error_type": h.get("error_type", ""),
        "error": h.get("error_message", ""),
        "raw": base64.b64encode(value or b"").decode("ascii"),
        "key": None if key is None else key.decode("utf-8", "replace"),
    }
