"""Exactly-once folding of re-sent events: a bounded window of recent event ids per user.

Upstream re-sends (producer retries without idempotence, a replayed batch) repeat an
event with the same ``event_id`` shortly after the original, among the same user's
next few events. Each user keeps the hashes of their last ``capacity`` event ids in
one immutable ``bytes`` ring (newest first), so a re-send is recognised without a
global id set that would grow with traffic.

Bounded how: ``6 * capacity`` bytes per user, whatever the traffic; the default
(5 ids x 48-bit hashes = 30 bytes) makes the whole ring one 63-byte ``bytes``
object, i.e. one 64-byte allocation (+ 8 bytes for the ``UserState`` slot). A
re-send older than the user's last ``capacity`` events is not recognised (it folds
twice); a new id is taken for a re-send with probability ~``capacity / 2**48``
(~2e-14) per event.

Hashes are CRC-32 plus the low bits of Adler-32 of the UTF-8 id: deterministic
across processes (the ring is checkpointed with the user, so Python's salted
``hash`` would not do) and ~5x cheaper than a cryptographic digest.
"""

from __future__ import annotations

import struct
from zlib import adler32, crc32

EMPTY = b""
DEFAULT_CAPACITY = 5
HASH_BYTES = 6  # CRC-32 (4 bytes) + low 16 bits of Adler-32 (2 bytes)
_pack = struct.Struct("<IH").pack


def event_key(event_id: str) -> bytes:
    """The 48-bit hash of one event id, as 6 bytes (stable across processes).

    >>> event_key("e1").hex()
    '278d8d089700'
    """
    try:
        raw = event_id.encode()
    except UnicodeEncodeError:  # a lone surrogate from a JSON escape
        raw = event_id.encode("utf-8", "surrogatepass")
    return _pack(crc32(raw), adler32(raw) & 0xFFFF)


class RecentEvents:
    """Duplicate detector over per-user rings of recent event-id hashes.

    The model is shared; each user's state is just the ``bytes`` ring it returns
    (start from :data:`EMPTY`, or :meth:`new_user`).

    Parameters
    ----------
    capacity
        Event ids remembered per user (0 = off: nothing is ever a duplicate).

    Examples
    --------
    >>> dedup = RecentEvents(capacity=2)
    >>> ring = dedup.new_user()
    >>> ring = dedup.add(ring, "e1")
    >>> dedup.add(ring, "e1") is None          # a re-send: fold nothing
    True
    >>> ring = dedup.add(ring, "e2")
    >>> ring = dedup.add(ring, "e3")           # e1 leaves the window of 2
    >>> dedup.add(ring, "e1") is None, len(ring)
    (False, 12)
    """

    __slots__ = ("_keep", "capacity")

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        if capacity < 0:
            raise ValueError(f"dedup capacity must be >= 0, got {capacity}")
        self.capacity = capacity
        self._keep = max(capacity - 1, 0) * HASH_BYTES  # older entries kept on insert

    def new_user(self) -> bytes:
        return EMPTY

    def add(self, ring: bytes, event_id: str) -> bytes | None:
        """The ring with ``event_id`` added (newest first), or None if already in ``ring``.

        Pure: ``ring`` is not modified, so the caller commits the new ring only once
        the event is accepted (a rejected event leaves no trace).
        """
        if not self.capacity:
            return ring
        try:
            raw = event_id.encode()
        except UnicodeEncodeError:
            raw = event_id.encode("utf-8", "surrogatepass")
        h = _pack(crc32(raw), adler32(raw) & 0xFFFF)
        i = ring.find(h)
        while i >= 0:
            if i % HASH_BYTES == 0:
                return None
            i = ring.find(h, i + 1)  # matched across two entries: keep looking
        return h + ring[: self._keep]

    def __repr__(self) -> str:
        return f"RecentEvents(capacity={self.capacity})"
