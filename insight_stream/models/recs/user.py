"""Per-user recommendation state: recent items (the seeds) and decayed purchase counts.

Bounded and compact, because there is one per customer and it is checkpointed
per user: parallel lists/arrays instead of dicts of objects, float32 counts and
minute-resolution purchase times (~1 KB with the default 10 recent and 32
purchased items; see ``nbytes``). Purchase counts decay
in event time with the inflation trick anchored on the user's own ``base`` time,
so an order costs O(lines x items) list scans and no rescaling of the rest.
"""

from __future__ import annotations

import math
import sys
from array import array
from collections.abc import Container
from zlib import crc32

from insight_stream.models.recs.decay import REBASE_AT

VIEW, CART, BOUGHT = 0, 1, 2
"""Seed kinds, stored in the low 2 bits of ``recent_meta`` (``ts * 4 + kind``)."""

_intern = sys.intern


class RecsUser:
    """What the recommender remembers about one customer.

    Attributes
    ----------
    recent, recent_meta
        Distinct recently touched items, oldest first, and ``ts * 4 + kind`` for each.
    session, session_n
        Current session id, and how many trailing ``recent`` items belong to it.
    bought, counts, last
        Distinct purchased items, their decayed purchase counts (inflated from
        ``base``, float32) and the event time of their last purchase in minutes
        (int32: epoch minutes fit until the year 6000; 0 = not held against the user).
    orders
        Decayed number of orders (same units as ``counts``): counts / orders is the
        share of the user's orders that contained the item.
    owned
        A 256-bit Bloom filter (two bits per item, from its CRC-32) of the items
        *evicted* from ``bought``, so they are still known as owned and not offered
        again as "new". Users within ``max_user_items`` have no false positives;
        with n evicted items the rate is ~(1 - exp(-2n/256))^2 (4 % at n = 28).
    disc_hits, disc_n
        The user's discovery record: decayed hits of the discovery ranking in their
        orders, and decayed number of orders it was scored on.

    >>> u = RecsUser()
    >>> u.touch("a", 1_000, VIEW, "s1", 60_000, 3)
    []
    >>> u.touch("b", 2_000, VIEW, "s1", 60_000, 3)
    ['a']
    >>> u.touch("a", 3_000, CART, "s1", 60_000, 3) is None  # already in this session: no pair
    True
    >>> u.recent, [m & 3 for m in u.recent_meta]
    (['b', 'a'], [0, 1])
    """

    __slots__ = (
        "base",
        "bought",
        "counts",
        "disc_hits",
        "disc_n",
        "last",
        "orders",
        "owned",
        "recent",
        "recent_meta",
        "session",
        "session_n",
    )

    def __init__(self) -> None:
        self.recent: list[str] = []
        self.recent_meta = array("q")
        self.session: str | None = None
        self.session_n = 0
        self.bought: list[str] = []
        self.counts = array("f")
        self.last = array("i")
        self.orders = 0.0
        self.base: int | None = None
        self.disc_hits = self.disc_n = 0.0
        self.owned = 0

    def may_own(self, item: str) -> bool:
        """True if the user (probably) bought ``item`` at some point.

        >>> u = RecsUser()
        >>> u.buy(["a"], 0, 1e-9, 1, 1); u.buy(["b"], 1, 1e-9, 1, 1)  # "a" evicted
        >>> u.bought, u.may_own("a"), u.may_own("zzz")
        (['b'], True, False)
        """
        if not self.owned:
            return item in self.bought
        h = crc32(item.encode())
        return item in self.bought or bool(
            self.owned >> (h & 255) & 1 and self.owned >> (h >> 8 & 255) & 1
        )

    def newest_bought(self, n: int, among: Container[str]) -> list[tuple[str, int]]:
        """Up to ``n`` held items that are in ``among`` (e.g. items with a neighbour
        list), newest purchase first, as ``(item, minute)``.

        >>> u = RecsUser()
        >>> u.buy(["a"], 0, 1e-9, 5, 5); u.buy(["b"], 120_000, 1e-9, 5, 5)
        >>> u.newest_bought(1, {"a", "b"}), u.newest_bought(5, {"a"})
        ([('b', 2)], [('a', 0)])
        """
        picked = sorted(
            [(-m, item) for item, m in zip(self.bought, self.last, strict=True) if item in among]
        )
        return [(item, -neg) for neg, item in picked[:n]]

    def most_bought(self, n: int, among: Container[str]) -> list[tuple[str, float]]:
        """Up to ``n`` held items that are in ``among``, most bought first (decayed
        purchase counts, ties by id), as ``(item, count / the user's top count)``.

        >>> u = RecsUser()
        >>> u.buy(["a", "b"], 0, 1e-9, 5, 5); u.buy(["b"], 60_000, 1e-9, 5, 5)
        >>> [(i, round(s, 2)) for i, s in u.most_bought(5, {"a", "b"})]
        [('b', 1.0), ('a', 0.5)]
        """
        counts = self.counts
        top = max(counts, default=0.0)
        if top <= 0.0:
            return []
        picked = sorted(
            [(-c, item) for item, c in zip(self.bought, counts, strict=True) if item in among]
        )
        return [(item, -neg / top) for neg, item in picked[:n]]

    def touch(
        self, item: str, ts: int, kind: int, session: str | None, gap_ms: float, max_recent: int
    ) -> list[str] | None:
        """Record a click on ``item``; return the earlier items of the same session.

        The returned items are the ones to pair ``item`` with; None when the item was
        already seen in this session, so repeated views do not inflate co-counts.
        Without a session id, a gap of more than ``gap_ms`` starts a new session.
        """
        recent = self.recent
        if session is not None:
            same = session == self.session
        else:
            last_ts = self.recent_meta[-1] >> 2 if recent else None
            same = self.session is None and last_ts is not None and ts - last_ts <= gap_ms
        if not same:
            self.session = session
            self.session_n = 0
        start = len(recent) - self.session_n
        i = recent.index(item) if item in recent else -1  # no exception: most items are new
        partners = None if i >= start else recent[start:]
        self._push(item, ts, kind, i, max_recent)
        if i < start:
            self.session_n += 1
        if self.session_n > len(recent):
            self.session_n = len(recent)
        return partners

    def _push(self, item: str, ts: int, kind: int, i: int, max_recent: int) -> None:
        recent, meta = self.recent, self.recent_meta
        if i >= 0:
            kind = max(kind, meta[i] & 3)
            del recent[i]
            del meta[i]
        recent.append(item)
        meta.append(ts * 4 + kind)
        if len(recent) > max_recent:
            del recent[0]
            del meta[0]

    def buy(
        self, items: list[str], ts: int, inv_tau: float, max_items: int, max_recent: int
    ) -> None:
        """Record one order: purchase counts, last-bought times and recent items.

        >>> u = RecsUser()
        >>> u.buy(["milk", "eggs"], 0, 1e-9, max_items=2, max_recent=5)
        >>> u.buy(["milk", "jam"], 1000, 1e-9, max_items=2, max_recent=5)  # evicts eggs
        >>> u.bought, [round(c, 3) for c in u.counts], u.recent
        (['milk', 'jam'], [2.0, 1.0], ['eggs', 'milk', 'jam'])
        """
        w = self._weight(ts, inv_tau)
        self.orders += w
        minute = ts // 60_000
        bought, counts, last = self.bought, self.counts, self.last
        recent = self.recent
        for item in items:
            i = bought.index(item) if item in bought else -1
            if i >= 0:
                counts[i] += w
                if minute > last[i]:
                    last[i] = minute
            elif len(bought) < max_items:
                bought.append(item)
                counts.append(w)
                last.append(minute)
            else:  # evict the weakest (oldest on ties): memory stays bounded
                j = min(range(len(bought)), key=lambda n: (counts[n], last[n]))
                h = crc32(bought[j].encode())
                self.owned |= (1 << (h & 255)) | (1 << (h >> 8 & 255))
                bought[j], counts[j], last[j] = item, w, minute
            self._push(item, ts, BOUGHT, recent.index(item) if item in recent else -1, max_recent)
        self.session_n = 0  # checkout closes the browsing window: later views pair afresh

    def unbuy(self, items: list[str], ts: int, inv_tau: float, cancelled: bool) -> None:
        """Take back one purchase of ``items`` (cancellation or return), as of ``ts``.

        Counts lose one purchase's weight at ``ts`` (clipped at 0, then forgotten); a
        cancellation also lifts the just-bought exclusion, a return keeps it.
        """
        w = self._weight(ts, inv_tau)
        self.orders = max(0.0, self.orders - w)
        for item in items:
            try:
                i = self.bought.index(item)
            except ValueError:
                continue
            self.counts[i] -= w
            if cancelled:
                self.last[i] = 0
            if self.counts[i] <= 1e-9 * w:
                if cancelled or self.last[i] == 0:
                    del self.bought[i], self.counts[i], self.last[i]
                else:
                    self.counts[i] = 0.0

    def _weight(self, ts: int, inv_tau: float) -> float:
        if self.base is None:
            self.base = ts
        x = (ts - self.base) * inv_tau
        if x > REBASE_AT:  # rescale this user's counts only: O(max_items), rarely
            factor = math.exp(-x)
            counts = self.counts
            for n in range(len(counts)):
                counts[n] *= factor
            self.orders *= factor
            self.base = ts
            x = 0.0
        return math.exp(x)

    def nbytes(self) -> int:
        """Approximate memory of this state (containers; item ids are interned, shared).

        >>> RecsUser().nbytes() < 600
        True
        """
        return (
            sys.getsizeof(self)
            + sys.getsizeof(self.recent)
            + sys.getsizeof(self.recent_meta)
            + sys.getsizeof(self.bought)
            + sys.getsizeof(self.counts)
            + sys.getsizeof(self.last)
            + 2 * sys.getsizeof(1.0)  # the discovery record
            + sys.getsizeof(self.owned)
        )

    def __getstate__(self) -> tuple[object, ...]:
        return (
            self.recent,
            self.recent_meta.tobytes(),
            self.session,
            self.session_n,
            self.bought,
            self.counts.tobytes(),
            self.last.tobytes(),
            self.orders,
            self.base,
            self.disc_hits,
            self.disc_n,
            self.owned,
        )

    def __setstate__(self, state: tuple[object, ...]) -> None:
        recent, meta, self.session, self.session_n, bought, counts, last, self.orders, self.base = (
            state[:9]
        )
        # Checkpoints from before the learned slots have no discovery record.
        self.disc_hits, self.disc_n, self.owned = (0.0, 0.0, 0)
        if len(state) > 9:
            self.disc_hits, self.disc_n, self.owned = state[9:]  # type: ignore[assignment]
        self.recent = [_intern(i) for i in recent]  # type: ignore[attr-defined]
        self.bought = [_intern(i) for i in bought]  # type: ignore[attr-defined]
        self.recent_meta = array("q")
        self.recent_meta.frombytes(meta)  # type: ignore[arg-type]
        self.counts = array("f")
        self.counts.frombytes(counts)  # type: ignore[arg-type]
        self.last = array("i")
        self.last.frombytes(last)  # type: ignore[arg-type]
