"""JSONL file sink: the file-based twin of the Kafka output topics."""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import Any

import orjson

from insight_stream.events import DlqRecord
from insight_stream.processor import Outputs

_OPTS = orjson.OPT_APPEND_NEWLINE


class JsonlSink:
    """Writes ``profiles.jsonl`` (tombstones as ``{"user_id", "deleted": true}``),
    ``alerts.jsonl`` and ``dlq.jsonl`` under ``out_dir``, and keeps the latest
    profile per user in memory when ``keep_latest`` (for summaries)."""

    def __init__(self, out_dir: Path, keep_latest: bool = True) -> None:
        out_dir.mkdir(parents=True, exist_ok=True)
        self.out_dir = out_dir
        self._profiles = (out_dir / "profiles.jsonl").open("wb")
        self._alerts = (out_dir / "alerts.jsonl").open("wb")
        self._dlq = (out_dir / "dlq.jsonl").open("wb")
        self.keep_latest = keep_latest
        self.latest: dict[str, dict[str, Any]] = {}
        self.alerts: list[dict[str, Any]] = []

    def write_outputs(self, out: Outputs) -> None:
        write = self._profiles.write
        for uid, profile in out.profiles.items():
            if profile is None:
                write(orjson.dumps({"user_id": uid, "deleted": True}, option=_OPTS))
                self.latest.pop(uid, None)
                continue
            write(orjson.dumps(profile, option=_OPTS))
            if self.keep_latest:
                self.latest[uid] = profile
        for alert in out.alerts:
            self._alerts.write(orjson.dumps(alert, option=_OPTS))
        self.alerts.extend(out.alerts)

    def write_dlq(self, rec: DlqRecord) -> None:
        self._dlq.write(orjson.dumps(rec.model_dump(), option=_OPTS))

    def close(self) -> None:
        for fh in (self._profiles, self._alerts, self._dlq):
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
