"""Changelog snapshots: every user of a partition packed into a few large records, so a
restore reads the last snapshot plus the per-user records written after it, instead of every
per-user record since the partition began.

kafka-python decodes about 60,000 records per second per core, so a restore that reads one
record per user (or several: Tansu does not compact) cannot exceed that. A snapshot chunk
holds about 200 users in one record. Per-user records stay the changelog's source of truth;
a snapshot only shortens the read, and a restore that cannot use one (missing, incomplete)
reads the partition from its start as before.

When: a partition is snapshotted at the start of a commit cycle once the per-user records
written to it since its last snapshot reach :data:`RATIO` times the users that snapshot held
(and at least ``INSIGHT_CHANGELOG_SNAPSHOT_RECORDS``). A restore then reads at most about
``1 + RATIO`` records' worth per user, and the writer sends about ``1 / RATIO`` times its
per-user bytes again as snapshots. Chunks are keyed ``\\x00snap:<slot>:<i>``, alternating
two slots, so on a compacted topic a snapshot cut short by a crash never replaces the one the
markers name.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

SNAPSHOT = b"\x00snap"
RATIO = 0.5


def encode(pairs: list[tuple[bytes, bytes]], chunk_bytes: int) -> Iterator[bytes]:
    """``(user key, blob)`` pairs packed into values of about ``chunk_bytes`` each.

    >>> [decode(v) for v in encode([(b"a", b"x" * 5), (b"b", b"y" * 5)], 8)]
    [[(b'a', b'xxxxx')], [(b'b', b'yyyyy')]]
    """
    batch: list[tuple[bytes, bytes]] = []
    size = sent = 0
    for key, blob in pairs:
        batch.append((key, blob))
        size += len(key) + len(blob) + 16
        if size >= chunk_bytes:
            yield pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL)
            batch, size, sent = [], 0, sent + 1
    if batch or not sent:  # a partition without users still has one (empty) chunk
        yield pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL)


def snapshot_key(slot: int, chunk: int) -> bytes:
    """The key of one chunk: one per (slot, index), so compaction keeps a whole snapshot.

    >>> snapshot_key(1, 12)
    b'\\x00snap:1:12'
    """
    return SNAPSHOT + b":%d:%d" % (slot, chunk)


def decode(value: bytes) -> list[tuple[bytes, bytes]]:
    """The pairs of one chunk (trusted: written by this project's changelog)."""
    return list(pickle.loads(value))


def named_ref(marker: Mapping[str, Any], part: int) -> dict[str, Any] | None:
    """The snapshot of ``part`` that ``marker`` names, if one can be read from."""
    ref = (marker.get("snapshots") or {}).get(str(part))
    return ref if ref is not None and "offset" in ref else None


def named(ref: Mapping[str, Any] | None, key: bytes) -> bool:
    """Whether chunk ``key`` is one of the snapshot ``ref`` names.

    >>> ref = {"slot": 1, "chunks": 3}
    >>> named(ref, snapshot_key(1, 2)), named(ref, snapshot_key(0, 0))
    (True, False)
    """
    if ref is None:
        return False
    _, slot, chunk = key.split(b":")
    return int(slot) == int(ref["slot"]) and int(chunk) < int(ref["chunks"])


def chunks_of(records: Iterable[Any], ref: Mapping[str, Any]) -> dict[int, bytes]:
    """The chunks, by index, of the snapshot ``ref`` names among consumer ``records``."""
    want = (ref["writer"].encode(), str(ref["cycle"]).encode())
    out: dict[int, bytes] = {}
    for rec in records:
        if rec.offset >= ref["offset"] and rec.key is not None and rec.key.startswith(SNAPSHOT):
            h = dict(rec.headers or [])
            if rec.value is not None and (h.get("writer"), h.get("cycle")) == want:
                out[int(h["chunk"])] = rec.value
    return out


@dataclass
class Schedule:
    """Per partition: the snapshot the markers name, and when the next one is due."""

    min_records: int = 2_000
    """``INSIGHT_CHANGELOG_SNAPSHOT_RECORDS``: no snapshot before this many records."""
    refs: dict[int, dict[str, Any]] = field(default_factory=dict)
    """partition -> ``{"offset", "writer", "cycle", "slot", "chunks", "users", "widths"}``
    of its snapshot; ``widths``: chunk keys each slot may hold on a compacted topic."""
    since: dict[int, int] = field(default_factory=dict)
    """Per-user records written to the partition since its snapshot began."""
    sizes: dict[int, int] = field(default_factory=dict)
    """Users the partition's snapshot held."""
    taking: dict[int, dict[str, Any]] = field(default_factory=dict)
    """Snapshots sent this cycle, waiting for their first acknowledged offset."""

    def due(self, owned: Iterable[int]) -> list[int]:
        """Owned partitions whose next snapshot is due.

        >>> s = Schedule(since={0: 2_500, 1: 10}, sizes={0: 4_000})
        >>> s.due([0, 1])
        [0]
        """
        return [
            p
            for p in sorted(owned)
            if self.since.get(p, 0) >= max(self.min_records, RATIO * self.sizes.get(p, 0))
        ]

    def adopt(self, markers: dict[int, dict[str, Any]], since: dict[int, int]) -> None:
        """Newly owned partitions: the snapshot their last marker names, and how many
        per-user records (if known) follow it."""
        for part, marker in markers.items():
            ref = (marker.get("snapshots") or {}).get(str(part))
            if ref is None:
                self.refs.pop(part, None)
            else:
                self.refs[part] = ref
            self.since[part] = since.get(part, 0)
            self.sizes[part] = 0 if ref is None else int(ref.get("users", 0))

    def take(
        self,
        part: int,
        users: Mapping[str, bytes],
        writer: str,
        cycle: int,
        erased: bool,
        chunk_bytes: int,
    ) -> list[tuple[bytes, bytes | None, list[tuple[str, bytes]]]]:
        """``(key, value, headers)`` of a new snapshot of ``part`` holding ``users``, in the
        slot the markers do not name, then tombstones for that slot's stale chunk keys (and
        the other slot's too if ``erased``: no key may keep an erased user); noted as
        taking until :meth:`Changelog.mark` learns where it begins."""
        slot = self.slot(part)
        values = list(encode([(u.encode(), b) for u, b in users.items()], chunk_bytes))
        n = str(len(values)).encode()
        out: list[tuple[bytes, bytes | None, list[tuple[str, bytes]]]] = [
            (snapshot_key(slot, i), v, [("chunk", str(i).encode()), ("chunks", n)])
            for i, v in enumerate(values)
        ]
        widths = self.widths(part)
        stale = [(slot, i) for i in range(len(values), widths[slot])]
        if erased:
            stale += [(1 - slot, i) for i in range(widths[1 - slot])]
            widths[1 - slot] = 0
        out += [(snapshot_key(s, i), None, []) for s, i in stale]
        widths[slot] = len(values)
        self.taking[part] = {
            "writer": writer,
            "cycle": cycle,
            "slot": slot,
            "chunks": len(values),
            "users": len(users),
            "widths": widths,
        }
        self.since[part] = 0
        return out

    def holding(self, parts: Iterable[int]) -> set[int]:
        """Those of ``parts`` whose snapshot keys may hold users."""
        return {p for p in parts if any(self.widths(p))}

    def widths(self, part: int) -> list[int]:
        """Chunk keys per slot that ``part``'s snapshots may have left (a copy)."""
        ref = self.refs.get(part)
        if ref is None:
            return [0, 0]
        return list(ref.get("widths") or [0, 0])

    def slot(self, part: int) -> int:
        """The slot a new snapshot of ``part`` writes: never the one its markers name."""
        ref = self.refs.get(part)
        return 1 if ref is None else 1 - int(ref["slot"])

    def marked(self, owned: Iterable[int]) -> dict[str, dict[str, Any]]:
        """What a marker carries: the snapshot of every owned partition that has one."""
        return {str(p): self.refs[p] for p in sorted(owned) if p in self.refs}
