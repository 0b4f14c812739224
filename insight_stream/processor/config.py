"""Engine settings: one frozen dataclass per model, gathered here."""

from __future__ import annotations

from dataclasses import dataclass, field

from insight_stream.models.churn import ChurnConfig
from insight_stream.models.dedup import DEFAULT_CAPACITY
from insight_stream.models.profile import ProfileConfig
from insight_stream.models.recs import RecsConfig
from insight_stream.models.segments import SegmentConfig

LATE_POLICIES = ("fold", "dlq")


@dataclass(frozen=True)
class EngineConfig:
    """Everything the Processor needs; every field has a production default.

    Parameters
    ----------
    top_n
        Recommendations per published profile.
    alert_items
        Recommended items attached to a churn alert's suggested action.
    track_quality
        Online next-basket hit rate of the recommendations (the top 10 taken as a
        session starts, scored against that session's order; a metric); costs one
        ``recommend`` per sampled session.
    quality_sample
        Track 1 in this many sessions (chosen by a stable hash of the session id).
    flush_events
        Coalescing window: profiles of users changed within this many records are
        published once, when the window is sealed. A position in the input, not a time,
        so replay and Kafka seal the same windows (``replay --flush-events``,
        ``INSIGHT_FLUSH_EVENTS``).
    allowed_lateness_ms
        An event more than this behind stream time is late.
    late_policy
        ``fold``: fold late events in (they never move stream time) and count them;
        ``dlq``: ``process`` raises ``RejectedEvent("late", ...)`` and changes nothing.
    dedup_window
        Recent event ids remembered per user; a re-sent id within it folds once
        (0 = off). See :mod:`insight_stream.models.dedup`.
    pack_users_above
        Once the engine holds more than this many users, those unchanged for a whole
        coalescing window are held packed: ~0.7 KB each instead of ~3 KB of objects, for
        ~10 % of throughput (unpacked when touched; processor/users.py). 0 packs at any
        size; a larger value than the shop's users never packs. Outputs are the same.
    """

    profile: ProfileConfig = field(default_factory=ProfileConfig)
    segments: SegmentConfig = field(default_factory=SegmentConfig)
    recs: RecsConfig = field(default_factory=RecsConfig)
    churn: ChurnConfig = field(default_factory=ChurnConfig)
    top_n: int = 10
    alert_items: int = 3
    track_quality: bool = True
    quality_sample: int = 8
    flush_events: int = 10_000
    allowed_lateness_ms: int = 3_600_000
    late_policy: str = "fold"
    dedup_window: int = DEFAULT_CAPACITY
    pack_users_above: int = 50_000

    def __post_init__(self) -> None:
        if self.top_n < 1:
            raise ValueError("engine.top_n must be >= 1")
        if self.quality_sample < 1:
            raise ValueError("engine.quality_sample must be >= 1")
        if self.flush_events < 1:
            raise ValueError("engine.flush_events must be >= 1")
        if self.alert_items < 0:
            raise ValueError("engine.alert_items must be >= 0")
        if self.allowed_lateness_ms < 0:
            raise ValueError("engine.allowed_lateness_ms must be >= 0")
        if self.late_policy not in LATE_POLICIES:
            raise ValueError(f"engine.late_policy must be one of {LATE_POLICIES}")
        if self.dedup_window < 0:
            raise ValueError("engine.dedup_window must be >= 0")
        if self.pack_users_above < 0:
            raise ValueError("engine.pack_users_above must be >= 0")
