"""Outputs -> records: the one place that knows which output goes to which topic, with what
key, value and headers. Kafka and file sinks both take these records as they are.

A record is ``(topic, key, value, headers)``. A profile tombstone (erased user) is a null
value, as on a compacted Kafka topic; the JSONL sink writes it as
``{"user_id": ..., "deleted": true}`` because a line cannot hold a bare null with a key.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass

import orjson

from insight_stream.events.outputs import DlqRecord
from insight_stream.processor.contract import Outputs

Headers = list[tuple[str, bytes]]
Record = tuple[str, bytes | None, bytes | None, Headers | None]


def dlq_headers(rec: DlqRecord) -> Headers:
    """Headers of a DLQ record: where it came from and why it was rejected.

    >>> rec = DlqRecord(source_topic="t", partition=1, offset=9, error_type="decode",
    ...                 error="bad", raw="")
    >>> dlq_headers(rec)[:3]
    [('source_topic', b't'), ('source_partition', b'1'), ('source_offset', b'9')]
    """
    return [
        ("source_topic", rec.source_topic.encode()),
        ("source_partition", str(rec.partition).encode()),
        ("source_offset", str(rec.offset).encode()),
        ("error_type", rec.error_type.encode()),
        ("error_message", rec.error.encode("utf-8", "replace")[:4096]),
        ("raw_truncated", b"true" if rec.raw_truncated else b"false"),
    ]


@dataclass(frozen=True)
class Router:
    """Topic names of the three outputs (files use the defaults as file stems).

    >>> from insight_stream.processor import Outputs
    >>> r = Router(profiles="p", alerts="a", dlq="d")
    >>> list(r.outputs(Outputs(profiles={"u1": None}, alerts=[{"user_id": "u1"}])))
    [('p', b'u1', None, None), ('a', b'u1', b'{"user_id":"u1"}', None)]
    """

    profiles: str = "profiles"
    alerts: str = "alerts"
    dlq: str = "dlq"

    def outputs(self, out: Outputs) -> Iterator[Record]:
        dumps, profiles, alerts = orjson.dumps, self.profiles, self.alerts
        for uid, profile in out.profiles.items():
            yield profiles, uid.encode(), None if profile is None else dumps(profile), None
        for alert in out.alerts:
            yield alerts, str(alert.get("user_id", "")).encode(), dumps(alert), None

    def dead_letter(self, rec: DlqRecord, raw: bytes | None, key: bytes | None) -> Record:
        """The raw input bytes as value (cut to the DLQ record's copy when it says it is
        truncated); provenance and the reason in headers."""
        if rec.raw_truncated:
            raw = base64.b64decode(rec.raw)
        return self.dlq, key, raw if raw is not None else b"", dlq_headers(rec)
