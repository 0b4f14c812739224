"""Online recommendation quality, prequential: the top 10 as a session *starts*, scored
if that session places an order (``insight_stream_model_quality``).

The cart of the session itself is not yet known when the list is taken, so it cannot leak
into the score. A fixed 1-in-``quality_sample`` sample of sessions, chosen by a stable hash
of the session id, keeps the cost low; snapshots are checkpointed with the shared state
(they feed the hit-rate drift detector, which must survive a restart). Hits are split into
repeats (an item the user already had) and discoveries, so both show on the dashboard.
"""

from __future__ import annotations

import zlib
from typing import TYPE_CHECKING

from insight_stream.processor.epochs import DRIFT

if TYPE_CHECKING:
    from insight_stream.events.inputs import OrderEvent
    from insight_stream.processor.processor import Processor
    from insight_stream.processor.state import UserState


def snapshot_for_quality(proc: Processor, uid: str, u: UserState, sid: str, ts: int) -> None:
    """Keep the user's top 10 (and which of them they hold) as session ``sid`` starts."""
    if u.profile.orders == 0 or zlib.crc32(sid.encode()) % proc.config.quality_sample:
        proc._quality_pending.pop(uid, None)
        return
    cats = u.profile.top_categories(3)
    top = [r[0] for r in proc.recs.recommend(u.recs, ts, 10, u.segment, cats)]
    held = dict.fromkeys(u.recs.bought)
    proc._quality_pending[uid] = (sid, top, [i in held for i in top])


def score_quality(proc: Processor, uid: str, u: UserState, ev: OrderEvent) -> None:
    """Score the snapshot of the session this order closes: a hit, a repeat hit, a new hit."""
    pending = proc._quality_pending.pop(uid, None)
    if pending is None or pending[0] != u.profile.session:
        return
    bought = {line.item_id for line in ev.lines}
    proc.quality_orders += 1
    top = pending[1]
    held = pending[2] if len(pending) > 2 else [False] * len(top)  # type: ignore[misc]
    hits = [item in bought for item in top]
    hit = any(hits)
    proc.quality_hits += hit
    proc.quality_hits_repeat += any(h and r for h, r in zip(hits, held, strict=True))
    proc.quality_hits_new += any(h and not r for h, r in zip(hits, held, strict=True))
    proc.queue_op(DRIFT, ("recs_hit_rate", float(hit), ev.ts))
