"""What a dead writer left after a changelog partition's last marker, overwritten by the
partition's next owner.

A writer that dies between acknowledging a cycle's records and writing that cycle's markers
leaves per-user values that no marker vouches for: they reflect input past the offsets of
the last marker. A restore takes the last value of each user before the *last* marker, so
once the next owner writes a marker, those values would count as restored state, ahead of
the offsets the restore resumes from. The next owner therefore reads the keys after the
last marker when it takes the partition over (the same tail read that finds the marker),
and in its first cycle writes each such user's value again from its own state (a tombstone
if it holds none), and tombstones snapshot chunk keys no marker names.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from insight_stream.runtime.snapshots import SNAPSHOT, named

RESERVED = b"\x00"  # markers, shared-model and snapshot chunks: keys no user id starts with


def user_ids(unmarked: Mapping[int, Iterable[bytes]]) -> set[str]:
    """The users among the keys left after the markers."""
    return {k.decode() for keys in unmarked.values() for k in keys if not k.startswith(RESERVED)}


def repairs(
    unmarked: Mapping[int, Iterable[bytes]],
    changed: Mapping[str, Any],
    current: Mapping[str, bytes],
    refs: Mapping[int, Mapping[str, Any]],
) -> Iterator[tuple[int, bytes, bytes | None]]:
    """``(partition, key, value)`` to write: users not in ``changed`` (written this cycle
    anyway) with their ``current`` value or a tombstone, and unnamed snapshot chunks.

    >>> list(repairs({0: {b"a", b"b", b"\\x00snap:0:0"}}, {"b": 1}, {"a": b"A"}, {}))
    [(0, b'\\x00snap:0:0', None), (0, b'a', b'A')]
    """
    for part, keys in sorted(unmarked.items()):
        for key in sorted(keys):
            if key.startswith(SNAPSHOT):
                if not named(refs.get(part), key):
                    yield part, key, None
            elif not key.startswith(RESERVED):
                uid = key.decode()
                if uid not in changed:
                    yield part, key, current.get(uid)
