"""Event-time inactivity timers: a min-heap of (due_ms, user_id), lazily invalidated.

Users get at most one live timer (``UserState.timer_at``); a stale heap entry
(user gone, or timer moved) is skipped when popped, which is cheaper than
deleting from the middle of a heap. Ties break on the user id, not on push order, so a
restored engine fires timers in the same order as one that never stopped.
"""

from __future__ import annotations

import heapq


class TimerQueue:
    """>>> q = TimerQueue(); q.push(5, "a"); q.push(3, "b")
    >>> list(q.pop_due(4)), list(q.pop_due(10))
    ([(3, 'b')], [(5, 'a')])
    """

    __slots__ = ("_heap",)

    def __init__(self) -> None:
        self._heap: list[tuple[int, str]] = []

    def __len__(self) -> int:
        return len(self._heap)

    def push(self, due_ms: int, user_id: str) -> None:
        heapq.heappush(self._heap, (due_ms, user_id))

    def next_due(self) -> int | None:
        return self._heap[0][0] if self._heap else None

    def pop_due(self, now_ms: int):
        heap = self._heap
        while heap and heap[0][0] <= now_ms:
            yield heapq.heappop(heap)

    def discard(self, user_id: str) -> None:
        """Remove every entry of ``user_id`` (erasure); O(n), erasures are rare."""
        heap = self._heap
        kept = [e for e in heap if e[1] != user_id]
        if len(kept) != len(heap):
            heapq.heapify(kept)
            self._heap = kept

    def clear(self) -> None:
        self._heap.clear()
