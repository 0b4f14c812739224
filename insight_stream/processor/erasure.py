"""Complete erasure of one user (``user_erased``): every place the engine keys by user id.

Kept apart from the Processor so the list of stores lives in one small place, next to
what it deliberately leaves: aggregate model statistics (item co-occurrence, popularity,
repeat rates, segment centres, churn parameters and the churn model's anonymous training
snapshots) carry no user id and decay; a user's share of them cannot be told apart from
everyone else's. docs/privacy.md lists the stores.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from insight_stream.processor.epochs import forget_user

if TYPE_CHECKING:
    from insight_stream.processor.processor import Processor


def erase_user(proc: Processor, uid: str) -> None:
    """Forget ``uid`` everywhere in memory and queue its tombstone profile.

    The tombstone goes out with the next drain of any kind (as alerts do), so the id does
    not wait in the coalescing window, which is checkpointed. ``_changed`` keeps the id
    until the next checkpoint, which deletes the stored blob and writes the changelog
    tombstone; after that the engine holds nothing keyed by it.
    """
    u = proc.users.pop(uid, None)
    if u is not None:
        proc._unpublish(u)  # segment sizes, churn histogram
    proc._quality_pending.pop(uid, None)  # quality tracker
    proc._dirty.pop(uid, None)  # open window (checkpointed with the shared models)
    proc._touched.pop(uid, None)
    proc.timers.discard(uid)  # inactivity timer (the dedup ring lived in UserState)
    proc.segments.forget(uid)  # warm-up sample
    forget_user(proc, uid)  # queued warm-up ops of the open epoch (processor/epochs.py)
    proc._changed[uid] = None  # -> store delete + changelog tombstone at the checkpoint
    proc.tombstones[uid] = None  # -> tombstone profile at the next drain
    proc.erasures += 1
