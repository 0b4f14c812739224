"""Exactly-once folding of re-sent events: a bounded window of recent event ids per user.

Upstream re-sends (producer retries without idempotence, a replayed batch) repeat an
event with the same ``event_id`` shortly after the original, among the same user's
next few events. Each user keeps the hashes of their last ``capacity`` event ids in
one immutable ``bytes`` ring (newest first), so a re-send is recognised without a
global id set that would grow with traffic.

Bounded how: ``capacity * hash_bytes`` bytes per user, whatever the traffic; the
defaults (5 ids x 48-bit hashes = 30 bytes) make the whole ring one 63-byte ``bytes``
object, i.e. one 64-byte allocation. A re-send older than the user's last
``capacity`` events is not recognised (it folds twice); two distinct ids collide
with probability ~``capacity / 2**(8 * hash_bytes)`` per event (~2e-14 by default).

Hashes are CRC-32 plus the low bits of Adler-32 of the UTF-8 id: deterministic
across processes (the ring is checkpointed with the user, so Python's salted
``hash`` would not do) and ~5x cheaper than a cryptographic digest.
"""

from __future__ import annotations

from zlib import adler32, crc32

EMPTY = b""
DEFAULT_CAPACITY = 5
DEFAULT_HASH_BYTES = 6


class RecentEvents:
    """Duplicate detector over per-user rings of recent event-id hashes.

    The model is shared; each user's state is just the ``bytes`` ring it returns
    (start from :data:`EMPTY`, or :meth:`new_user`).

    Parameters
    ----------
    capacity
        Event ids remembered per user (0 = off: nothing is ever a duplicate).
    hash_bytes
        Bytes kept of each id's hash, 4..8 (more = fewer false duplicates, more memory).

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

    __slots__ = ("_hash_bytes", "_size", "capacity")

    def __init__(
        self, capacity: int = DEFAULT_CAPACITY, hash_bytes: int = DEFAULT_HASH_BYTES
    ) -> None:
        if capacity < 0:
            raise ValueError(f"dedup capacity must be >= 0, got {capacity}")
        if not 4 <= hash_bytes <= 8:
            raise ValueError(f"dedup hash_bytes must be in 4..8, got {hash_bytes}")
        self.capacity = capacity
        self._hash_bytes = hash_bytes
        self._size = capacity * hash_bytes

    def new_user(self) -> bytes:
        return EMPTY

    def key(self, event_id: str) -> bytes:
        """The ``hash_bytes``-byte hash of one event id (stable across processes)."""
        raw = event_id.encode("utf-8", "surrogatepass")
        return (crc32(raw) | adler32(raw) << 32).to_bytes(8, "little")[: self._hash_bytes]

    def add(self, ring: bytes, event_id: str) -> bytes | None:
        """The ring with ``event_id`` added, or None if it is already in ``ring``.

        Pure: ``ring`` is not modified, so the caller commits the new ring only once
        the event is accepted (a rejected event leaves no trace).
        """
        if not self._size:
            return ring
        h = self.key(event_id)
        i = ring.find(h)
        while i >= 0:
            if i % self._hash_bytes == 0:
                return None
            i = ring.find(h, i + 1)  # matched across two entries: keep looking
        return (h + ring)[: self._size]

    def __repr__(self) -> str:
        return f"RecentEvents(capacity={self.capacity}, hash_bytes={self._hash_bytes})"
