"""The replay loop: feed decoded records to a Processor, drain every N events, hand outputs on.

Flushing after a fixed number of events (not wall time) keeps replay output
byte-identical from run to run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from insight_stream.events import DlqRecord
from insight_stream.processor import Outputs, Processor
from insight_stream.replay.files import Decoded


@dataclass
class ReplayResult:
    events: int = 0
    dlq: int = 0
    profiles: int = 0
    alerts: int = 0
    dlq_by_reason: dict[str, int] = field(default_factory=dict)


def replay_stream(
    proc: Processor,
    records: Iterable[Decoded],
    on_outputs: Callable[[Outputs], None],
    on_dlq: Callable[[DlqRecord], None],
    flush_every: int = 10_000,
    on_progress: Callable[[int], None] | None = None,
) -> ReplayResult:
    """Run ``records`` through ``proc``; outputs are coalesced per ``flush_every`` events."""
    if flush_every < 1:
        raise ValueError("flush_every must be >= 1")
    res = ReplayResult()
    process = proc.process
    pending = 0
    for rec in records:
        if isinstance(rec, DlqRecord):
            res.dlq += 1
            res.dlq_by_reason[rec.error_type] = res.dlq_by_reason.get(rec.error_type, 0) + 1
            on_dlq(rec)
            continue
        process(rec)
        res.events += 1
        pending += 1
        if pending >= flush_every:
            _flush(proc, on_outputs, res)
            if on_progress is not None:
                on_progress(pending)
            pending = 0
    _flush(proc, on_outputs, res)
    if on_progress is not None and pending:
        on_progress(pending)
    return res


def _flush(proc: Processor, on_outputs: Callable[[Outputs], None], res: ReplayResult) -> None:
    out = proc.drain()
    res.profiles += len(out.profiles)
    res.alerts += len(out.alerts)
    on_outputs(out)
