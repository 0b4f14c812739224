"""Every user's state, with idle users packed: objects for the users of recent windows,
``marshal`` blobs (:func:`~insight_stream.processor.state.pack`) for the rest.

A customer is active for minutes and silent for days, so at any moment most states are
idle. A packed user costs ~700 B instead of ~2.8 KB of Python objects; it is unpacked
(~10 us) when an event or a write touches it, and packed again (~7 us) at the end of the
first coalescing window in which it did not change. The round trip is exact, so outputs
do not depend on which users were packed when.

Three ways to reach a user:

* :meth:`UserTable.get` (or ``table[uid]``): the live object, unpacked and kept so. For
  writers: an event, an erasure.
* :meth:`UserTable.view`, :meth:`UserTable.items`, :meth:`UserTable.values`: a packed
  user as a :class:`PackedUser`, whose model parts are decoded only when read (a churn
  refit reads the churn part alone). For readers, and for a writer that hands the view
  back with :meth:`UserTable.put` (an inactivity timer); otherwise **changes are lost**.
* :meth:`UserTable.peek`: a full, independent :class:`UserState` copy (checkpoints,
  queries), the live object for an unpacked user.
"""

from __future__ import annotations

from collections.abc import Container, Iterator, KeysView
from typing import Any

from insight_stream.models.churn import ChurnUser
from insight_stream.models.profile import ProfileState
from insight_stream.models.recs import RecsUser
from insight_stream.processor.state import (
    UserState,
    churn_part,
    from_state,
    own_fields,
    pack,
    pack_churn,
    pack_profile,
    pack_recs,
    parts,
    profile_part,
    recs_part,
    repack,
    set_own,
    unpack,
)


class PackedUser:
    """A packed user read in place: its own fields at once, each model part when first read.

    Duck-types :class:`UserState`. :meth:`blob` packs it again, re-encoding only the parts
    that were read (a reader may have changed them).
    """

    __slots__ = (
        "_blobs",
        "_churn",
        "_profile",
        "_recs",
        "published_bucket",
        "published_risk",
        "recent",
        "segment",
        "timer_at",
        "updated_at",
    )

    def __init__(self, blob: bytes) -> None:
        own, profile, churn, recs = parts(blob)
        set_own(self, own)
        self._blobs = (profile, churn, recs)
        self._profile: ProfileState | None = None
        self._churn: ChurnUser | None = None
        self._recs: RecsUser | None = None

    @property
    def profile(self) -> ProfileState:
        if self._profile is None:
            self._profile = profile_part(self._blobs[0])
        return self._profile

    @property
    def churn(self) -> ChurnUser:
        if self._churn is None:
            self._churn = churn_part(self._blobs[1])
        return self._churn

    @property
    def recs(self) -> RecsUser:
        if self._recs is None:
            self._recs = recs_part(self._blobs[2])
        return self._recs

    def blob(self) -> bytes:
        """This state packed again, with whatever was changed through the view."""
        profile, churn, recs = self._blobs
        return repack(
            own_fields(self),
            profile if self._profile is None else pack_profile(self._profile),
            churn if self._churn is None else pack_churn(self._churn),
            recs if self._recs is None else pack_recs(self._recs),
        )

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled as the :class:`UserState` it stands for (a group's user exchange)."""
        return from_state, (unpack(self.blob()).__getstate__(),)


class UserTable:
    """A ``dict[str, UserState]`` whose idle entries are packed.

    >>> from insight_stream.models.churn import ChurnUser
    >>> from insight_stream.models.profile import ProfileState
    >>> from insight_stream.models.recs import RecsUser
    >>> users = UserTable()
    >>> users["a"] = UserState(ProfileState(0), ChurnUser(), RecsUser())
    >>> users["b"] = UserState(ProfileState(1), ChurnUser(), RecsUser())
    >>> users.pack_idle(keep={"b"}), users.packed
    (1, 1)
    >>> users.view("a").profile.first_seen, users.packed  # a read leaves it packed
    (0, 1)
    >>> a = users.view("a"); a.timer_at = 9; users.put("a", a)  # a write handed back
    >>> users.get("a").timer_at, users.packed  # a writer unpacks it
    (9, 0)
    >>> sorted(users), len(users), "a" in users
    (['a', 'b'], 2, True)
    """

    __slots__ = ("_hot", "_rows", "above")

    def __init__(self, above: int = 0) -> None:
        self._rows: dict[str, UserState | bytes] = {}
        self._hot: dict[str, None] = {}  # ids whose entry is an object
        self.above = above  # pack only while the table holds more users than this

    # -- writers: the live object ---------------------------------------------------------
    def get(self, uid: str, default: None = None) -> UserState | None:
        """The user's live state (unpacked and kept so if it was packed), or ``default``."""
        u = self._rows.get(uid)
        if u.__class__ is bytes:
            u = self._rows[uid] = unpack(u)  # type: ignore[arg-type]
            self._hot[uid] = None
        return default if u is None else u  # type: ignore[return-value]

    def __getitem__(self, uid: str) -> UserState:
        u = self.get(uid)
        if u is None:
            raise KeyError(uid)
        return u

    def __setitem__(self, uid: str, u: UserState) -> None:
        self._rows[uid] = u
        self._hot[uid] = None

    def put(self, uid: str, u: UserState | PackedUser) -> None:
        """Hand back a state taken with :meth:`view` after changing it (a live object, which
        :meth:`view` returns for an unpacked user, is already in place)."""
        if u.__class__ is PackedUser:
            if self._rows.get(uid).__class__ is not bytes:  # unpacked since the view was taken
                raise RuntimeError(f"user {uid} changed while a packed view of it was out")
            self._rows[uid] = u.blob()  # type: ignore[union-attr]

    def pop(self, uid: str, default: None = None) -> UserState | None:
        """Remove the user; returns their state (unpacked) or ``default``."""
        u = self._rows.pop(uid, None)
        self._hot.pop(uid, None)
        if u.__class__ is bytes:
            return unpack(u)  # type: ignore[arg-type]
        return default if u is None else u  # type: ignore[return-value]

    # -- readers: a packed user stays packed ------------------------------------------------
    def view(self, uid: str) -> UserState | None:
        """The live object, or a :class:`PackedUser` (changes kept only through :meth:`put`)."""
        u = self._rows.get(uid)
        return PackedUser(u) if u.__class__ is bytes else u  # type: ignore[arg-type,return-value]

    def peek(self, uid: str) -> UserState | None:
        """The live object, or a full copy of a packed user (changes to it are lost)."""
        u = self._rows.get(uid)
        return unpack(u) if u.__class__ is bytes else u  # type: ignore[arg-type,return-value]

    def items(self) -> Iterator[tuple[str, UserState]]:
        """``(id, state)`` in insertion order, packed users as views (see :meth:`view`)."""
        for uid, u in self._rows.items():
            yield uid, PackedUser(u) if u.__class__ is bytes else u  # type: ignore[misc,arg-type]

    def values(self) -> Iterator[UserState]:
        """States, packed users as views (see :meth:`view`)."""
        for u in self._rows.values():
            yield PackedUser(u) if u.__class__ is bytes else u  # type: ignore[misc,arg-type]

    def held(self, uid: str) -> UserState | bytes | None:
        """The entry as it is held: the object, or its packed bytes (memory accounting)."""
        return self._rows.get(uid)

    def keys(self) -> KeysView[str]:
        return self._rows.keys()

    def __iter__(self) -> Iterator[str]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, uid: object) -> bool:
        return uid in self._rows

    # -- packing --------------------------------------------------------------------------
    @property
    def packed(self) -> int:
        """How many users are held packed."""
        return len(self._rows) - len(self._hot)

    def pack_idle(self, keep: Container[str]) -> int:
        """Pack every unpacked user not in ``keep``; returns how many were packed.

        The engine calls this at each window end with the window's users, so a user is
        packed once a whole window has passed without a change to them. Nothing is
        packed while the table holds no more than ``above`` users.
        """
        if len(self._rows) <= self.above:
            return 0
        rows, hot = self._rows, {}
        n = 0
        for uid in self._hot:
            if uid in keep:
                hot[uid] = None
            else:
                rows[uid] = pack(rows[uid])  # type: ignore[arg-type]
                n += 1
        self._hot = hot
        return n
