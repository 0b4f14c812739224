"""Per-user state: one compact object per customer holding every model's part."""

from __future__ import annotations

import marshal
from operator import attrgetter
from typing import Any, TypeVar

from insight_stream.models.churn import ChurnUser
from insight_stream.models.profile import ProfileState
from insight_stream.models.recs import RecsUser


class UserState:
    """The engine's whole memory of one user (pickled as one blob per checkpoint).

    ``updated_at`` is the event time the published profile describes: the user's
    last event or the last inactivity timer that fired for them. Profiles are
    scored at that time, not at "now", so they do not depend on when a batch
    happened to be flushed.
    """

    __slots__ = (  # noqa: RUF023 (pickled by position: new slots go last)
        "churn",
        "profile",
        "published_bucket",
        "recs",
        "segment",
        "timer_at",
        "updated_at",
        "recent",  # hostile input: recent event-id hashes (models/dedup.py)
        "published_risk",  # the risk on the last published profile (processor/freshness.py)
    )

    def __init__(self, profile: ProfileState, churn: ChurnUser, recs: RecsUser) -> None:
        self.profile = profile
        self.churn = churn
        self.recs = recs
        self.segment: int | None = None
        self.timer_at: int | None = None
        self.updated_at = profile.first_seen
        self.published_bucket: int | None = None
        self.recent = b""  # hostile input: see models/dedup.py
        self.published_risk: float | None = None

    def __getstate__(self) -> tuple:
        return tuple(getattr(self, s) for s in self.__slots__)

    def __setstate__(self, state: tuple) -> None:
        n = len(self.__slots__)
        if len(state) == n - 1:  # written before published_risk existed
            state = (*state, None)
        elif len(state) != n:
            raise ValueError(f"user state has {len(state)} fields; this build reads {n - 1} or {n}")
        (  # __slots__ order: one assignment, not a setattr loop (restores)
            self.churn,
            self.profile,
            self.published_bucket,
            self.recs,
            self.segment,
            self.timer_at,
            self.updated_at,
            self.recent,
            self.published_risk,
        ) = state


_OWN = tuple(s for s in UserState.__slots__ if s not in ("profile", "churn", "recs"))
own_fields = attrgetter(*_OWN)
"""The user's own fields (segment, timers, published values, dedup ring) as a tuple."""
_profile_fields = attrgetter(*ProfileState.__slots__)


def set_own(u: UserState | Any, own: tuple) -> None:
    """Set ``own_fields`` on ``u``: a :class:`UserState`, or a packed user's view
    (processor/users.py), which has the same own fields."""
    u.published_bucket, u.segment, u.timer_at, u.updated_at, u.recent, u.published_risk = own


_dumps, _loads, _new = marshal.dumps, marshal.loads, object.__new__
_T = TypeVar("_T")


def pack(u: UserState) -> bytes:
    """The user as one ``marshal`` blob of plain values: ~700 B against ~2.8 KB of objects.

    For users idle in memory (:mod:`insight_stream.processor.users`), never persisted:
    marshal's format belongs to the running interpreter; checkpoints stay pickles. The
    round trip is exact (floats bit for bit, dict order, array contents). The profile,
    churn and recommendation parts are nested blobs, so a reader of one part decodes
    only that part (:func:`parts`).

    >>> u = UserState(ProfileState(5), ChurnUser(), RecsUser())
    >>> u.segment = 2
    >>> back = unpack(pack(u))
    >>> back.segment, back.profile.first_seen, back.churn.first_day
    (2, 5, -1)
    """
    return repack(own_fields(u), pack_profile(u.profile), pack_churn(u.churn), pack_recs(u.recs))


def pack_profile(p: ProfileState) -> bytes:
    """The profile part of :func:`pack`."""
    return _dumps(_profile_fields(p))


def pack_churn(c: ChurnUser) -> bytes:
    """The churn part of :func:`pack`."""
    return _dumps(c.__getstate__())


def pack_recs(r: RecsUser) -> bytes:
    """The recommendation part of :func:`pack`."""
    return _dumps(r.__getstate__())


def repack(own: tuple, profile: bytes, churn: bytes, recs: bytes) -> bytes:
    """A blob of :func:`pack` from its own fields and its three packed parts."""
    return _dumps((own, profile, churn, recs))


def parts(blob: bytes) -> tuple[tuple, bytes, bytes, bytes]:
    """A blob of :func:`pack` as its own fields and its three still packed parts."""
    return _loads(blob)  # type: ignore[no-any-return]


def profile_part(part: bytes) -> ProfileState:
    """The profile packed in one part of :func:`pack`."""
    p: ProfileState = _new(ProfileState)
    p.set_fields(_loads(part))
    return p


def churn_part(part: bytes) -> ChurnUser:
    """The churn state packed in one part of :func:`pack`."""
    return _with_state(ChurnUser, _loads(part))


def recs_part(part: bytes) -> RecsUser:
    """The recommendation state packed in one part of :func:`pack`."""
    return _with_state(RecsUser, _loads(part))


def from_state(state: tuple) -> UserState:
    """The :class:`UserState` whose ``__getstate__`` is ``state`` (unpickling)."""
    return _with_state(UserState, state)


def _with_state(cls: type[_T], state: tuple) -> _T:
    obj = _new(cls)
    obj.__setstate__(state)
    return obj  # type: ignore[no-any-return]


def unpack(blob: bytes) -> UserState:
    """The :class:`UserState` that :func:`pack` packed."""
    own, profile, churn, recs = parts(blob)
    u: UserState = _new(UserState)
    u.profile, u.churn, u.recs = profile_part(profile), churn_part(churn), recs_part(recs)
    set_own(u, own)
    return u
