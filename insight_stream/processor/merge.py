"""Event-time merge of several ordered sources: the order every source is folded in.

One source per (input topic, partition). The head with the smallest event time goes
first (ties: source key), but only once every source that may still receive records has
a head: a source that is empty and not declared idle *blocks* the merge. That is how a
Kafka Streams task picks records (``max.task.idle.ms``): it never races ahead on the
partition that happens to be fetched while another one is behind. A file replay splits
its files into the same sources and runs the same merge, so both fold the same order.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Hashable, Iterable
from typing import Any

Key = Hashable


class Merger:
    """Buffers per source; :meth:`pop` yields items in merged event-time order.

    >>> m = Merger()
    >>> for key in ("a", "b"):
    ...     m.add_source(key)
    >>> m.push("a", 5, "a5"); m.push("a", 9, "a9")
    >>> m.pop() is None, m.blocked()   # "b" may still send something earlier than 5
    (True, {'b'})
    >>> m.push("b", 7, "b7")
    >>> m.pop(), m.pop()
    ('a5', 'b7')
    >>> m.set_idle("b")                # b is caught up and waited long enough: go on
    >>> m.pop(), m.pop()
    ('a9', None)
    """

    __slots__ = ("_buffers", "_closed", "_heap", "_idle", "_waiting")

    def __init__(self) -> None:
        self._buffers: dict[Key, deque[tuple[int, Any]]] = {}
        self._heap: list[tuple[int, Any]] = []  # (head ts, key): ties break on the key
        self._waiting: set[Key] = set()  # empty sources that block the merge
        self._idle: set[Key] = set()  # empty sources declared idle (do not block)
        self._closed: set[Key] = set()  # sources that will never receive more

    # -- sources ----------------------------------------------------------------------
    def add_source(self, key: Key) -> None:
        if key not in self._buffers:
            self._buffers[key] = deque()
            self._waiting.add(key)

    def remove_source(self, key: Key) -> list[Any]:
        """Forget a source (its partition moved away); returns what it still buffered."""
        buf = self._buffers.pop(key, None)
        self._waiting.discard(key)
        self._idle.discard(key)
        self._closed.discard(key)
        if not buf:
            return []
        self._heap = [h for h in self._heap if h[1] != key]
        heapq.heapify(self._heap)
        return [item for _, item in buf]

    def sources(self) -> Iterable[Key]:
        return self._buffers.keys()

    def set_idle(self, key: Key) -> None:
        """An empty source that is caught up stops blocking until it receives a record."""
        if key in self._waiting:
            self._waiting.discard(key)
            self._idle.add(key)

    def rearm(self) -> None:
        """Idle sources block again. Called when nothing is buffered: a wait is only owed
        while records are held back, so the next record waits for the other sources anew
        (Kafka Streams starts ``max.task.idle.ms`` when a task has data it cannot process).
        Closed sources stay idle."""
        open_idle = self._idle - self._closed
        self._waiting |= open_idle
        self._idle -= open_idle

    def close(self, key: Key) -> None:
        """A source that will never receive more (end of file): idle for good, once drained."""
        self._closed.add(key)
        self.set_idle(key)

    # -- records ----------------------------------------------------------------------
    def push(self, key: Key, ts: int, item: Any) -> None:
        buf = self._buffers[key]
        if not buf:
            heapq.heappush(self._heap, (ts, key))
            self._waiting.discard(key)
            self._idle.discard(key)
        buf.append((ts, item))

    def peek(self) -> Any | None:
        """The item :meth:`pop` would return next, left in place (None when blocked or empty)."""
        if self._waiting or not self._heap:
            return None
        return self._buffers[self._heap[0][1]][0][1]

    def pop(self) -> Any | None:
        """The next item in merged order, or None when empty or blocked on a source."""
        if self._waiting or not self._heap:
            return None
        key = self._heap[0][1]
        buf = self._buffers[key]
        _, item = buf.popleft()
        if buf:
            heapq.heapreplace(self._heap, (buf[0][0], key))
        else:
            heapq.heappop(self._heap)
            (self._idle if key in self._closed else self._waiting).add(key)
        return item

    # -- introspection ----------------------------------------------------------------
    def blocked(self) -> set[Key]:
        """Empty sources the merge waits for."""
        return set(self._waiting)

    def buffered(self, key: Key) -> int:
        buf = self._buffers.get(key)
        return len(buf) if buf else 0

    def head(self, key: Key) -> Any | None:
        buf = self._buffers.get(key)
        return buf[0][1] if buf else None

    def __len__(self) -> int:
        return sum(len(b) for b in self._buffers.values())
