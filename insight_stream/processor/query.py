"""Interactive reads of live engine state: the same records the output topics carry, now.

Pure functions over the Processor (no Kafka, no HTTP, no locking): the runtime serves them
on its HTTP port and decides when it is safe to call them (runtime/queries.py). A profile
comes from :func:`~insight_stream.processor.publish.build_profile`, the one builder the
profile topic uses, so a query and the topic cannot disagree on shape. Nothing here writes
engine state (portraits are a cache recomputed from the centres), so queries cannot change
what a replay gives.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from insight_stream.processor.publish import build_profile

if TYPE_CHECKING:
    from insight_stream.processor.processor import Processor


def user_profile(proc: Processor, user_id: str) -> dict[str, Any] | None:
    """The ``insight.profiles`` record ``user_id`` would get if its window closed now."""
    u = proc.users.peek(user_id)  # a query leaves an idle user packed
    return None if u is None else build_profile(proc, user_id, u)


def segments_view(proc: Processor) -> dict[str, Any]:
    """Current segments: portrait (id, name, description, action) and size, by id."""
    sizes = proc.seg_sizes
    return {
        "status": proc.segments.status,
        "stream_time": proc.stream_time,
        "users": len(proc.users),
        "segments": [
            {**portrait, "size": sizes.get(seg, 0)}
            for seg, portrait in sorted(proc.segments.portraits().items())
        ],
    }
