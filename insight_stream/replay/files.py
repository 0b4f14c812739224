"""JSONL input files as the drive loop's sources, split the way Kafka would partition them.

Each file plays one input topic; its records are split by user id over ``partitions``
sources with Kafka's default partitioner, and the sources are merged by event time with
the same :class:`~insight_stream.processor.merge.Merger` the Kafka runtime uses. So a
replay folds exactly the order ``insight-stream run`` folds, ties and late records
included. Files are read lazily (memory does not grow with their size); a record that
fails to decode goes to the DLQ at once, like on Kafka.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from insight_stream.events import DEFAULT_LIMITS, DlqRecord, InputLimits, decode
from insight_stream.events.pseudonym import Pseudonymizer
from insight_stream.processor.driver import Driver
from insight_stream.processor.partitioning import partition_for

DEFAULT_PARTITIONS = 4


class _File:
    __slots__ = ("done", "index", "lines", "name")

    def __init__(self, index: int, path: Path) -> None:
        self.index, self.name, self.done = index, path.stem, False
        self.lines = _lines(path)


def _lines(path: Path) -> Iterator[tuple[int, bytes]]:
    with path.open("rb") as fh:
        for line_no, line in enumerate(fh):
            raw = line.rstrip(b"\r\n")
            if raw.strip():
                yield line_no, raw


def replay_files(
    driver: Driver,
    paths: list[Path],
    partitions: int = DEFAULT_PARTITIONS,
    on_progress: Callable[[int], None] | None = None,
    limits: InputLimits = DEFAULT_LIMITS,
    now_ms: int | None = None,
    pseudonymizer: Pseudonymizer | None = None,
) -> None:
    """Fold every record of ``paths`` into ``driver`` (file order = topic order).

    ``limits`` and ``now_ms`` (the wall clock, for the future check; None = off) go to
    ``decode``, as on Kafka. ``pseudonymizer`` replaces user ids after the record is placed
    on the partition its original id hashes to (as the producer's key placed it on Kafka).

    >>> import tempfile, pathlib
    >>> from insight_stream.processor import Processor
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> line = '{{"event_id":"{}","user_id":"{}","type":"login","ts":{}}}\\n'
    >>> _ = (d / "a.jsonl").write_text(line.format(1, "u", 1700000000005))
    >>> _ = (d / "b.jsonl").write_text(line.format(2, "v", 1700000000001))
    >>> proc = Processor()
    >>> replay_files(Driver(proc, lambda rec: None), [d / "a.jsonl", d / "b.jsonl"])
    >>> proc.stream_time, proc.events
    (1700000000005, 2)
    """
    files = [_File(i, Path(p)) for i, p in enumerate(paths)]
    for f in files:
        for part in range(partitions):
            driver.add_source((f.index, part))
    merger = driver.merger
    while True:
        n = driver.run()
        if on_progress is not None and n:
            on_progress(n)
        blocked = merger.blocked()
        if not blocked:
            return  # nothing buffered and nothing to wait for: every file is consumed
        for key in sorted(blocked):
            f = files[key[0]]
            if not f.done:
                _read_until(driver, f, key, partitions, on_progress, limits, now_ms, pseudonymizer)
            if f.done and not merger.buffered(key):
                driver.close(key)


def _read_until(
    driver: Driver,
    f: _File,
    want: tuple[int, int],
    partitions: int,
    on_progress: Callable[[int], None] | None,
    limits: InputLimits,
    now_ms: int | None,
    pz: Pseudonymizer | None,
) -> None:
    """Read ``f`` until source ``want`` has a record or the file ends."""
    for line_no, raw in f.lines:
        rec = decode(raw, f.name, 0, line_no, limits=limits, now_ms=now_ms)
        if isinstance(rec, DlqRecord):
            driver.dead_letter(rec, raw)
            if on_progress is not None:
                on_progress(1)
            continue
        key = (f.index, partition_for(rec.user_id, partitions))
        rec_key = rec.user_id.encode()
        if pz is not None:
            rec = pz.event(rec)
        driver.push(key, rec, raw, rec_key, f.name, 0, line_no)
        if key == want:
            return
    f.done = True
