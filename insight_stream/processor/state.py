"""Per-user state: one compact object per customer holding every model's part."""

from __future__ import annotations

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
        if len(state) not in (n, n - 1):  # n - 1: written before published_risk existed
            raise ValueError(f"user state has {len(state)} fields; this build reads {n - 1} or {n}")
        for name, value in zip(self.__slots__, state, strict=False):
            setattr(self, name, value)
        if len(state) < n:
            self.published_risk = None
