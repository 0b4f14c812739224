"""Read input JSONL files and merge them into one event-time ordered stream of decoded records.

Each file is assumed to be in event-time order (as producers and ``simulate``
write them); files are merged lazily, so memory does not grow with input size.
A record that fails to decode keeps its file position and flows through as a
:class:`DlqRecord`.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from pathlib import Path

from insight_stream.events import DEFAULT_LIMITS, DlqRecord, Event, InputLimits, decode

Decoded = Event | DlqRecord


def read_records(
    path: Path,
    topic: str | None = None,
    *,
    limits: InputLimits = DEFAULT_LIMITS,
    now_ms: int | None = None,
) -> Iterator[tuple[int, int, Decoded]]:
    """Yield ``(ts, line_no, record)``; a DLQ record carries the ts of the line before it.

    ``limits`` and ``now_ms`` (wall clock for the future check) are passed to ``decode``.
    """
    name = topic or path.stem
    last_ts = 0
    with path.open("rb") as fh:
        for line_no, line in enumerate(fh):
            raw = line.rstrip(b"\r\n")
            if not raw.strip():
                continue
            rec = decode(raw, name, 0, line_no, limits=limits, now_ms=now_ms)
            if not isinstance(rec, DlqRecord):
                last_ts = rec.ts
            yield last_ts, line_no, rec


def merged_records(
    paths: Iterable[Path], *, limits: InputLimits = DEFAULT_LIMITS, now_ms: int | None = None
) -> Iterator[Decoded]:
    """Merge several event-time ordered files into one (ties: file order, then line).

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> line = '{{"event_id":"{}","user_id":"u","type":"login","ts":{}}}\\n'
    >>> _ = (d / "a.jsonl").write_text(line.format(1, 1700000000005))
    >>> _ = (d / "b.jsonl").write_text(line.format(2, 1700000000001))
    >>> [r.event_id for r in merged_records([d / "a.jsonl", d / "b.jsonl"])]
    ['2', '1']
    """
    streams = [
        ((ts, i, n, rec) for ts, n, rec in read_records(Path(p), limits=limits, now_ms=now_ms))
        for i, p in enumerate(paths)
    ]
    for _, _, _, rec in heapq.merge(*streams, key=lambda t: (t[0], t[1], t[2])):
        yield rec
