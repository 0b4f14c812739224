"""The engine contract, declared once: what every source (files, simulator, evaluation,
benchmarks, Kafka) drives, and the values it hands back.

The drive loop (:mod:`insight_stream.processor.driver`) is typed against :class:`Engine`,
so the runtime never needs to know the Processor's internals, and a test double only has
to implement this protocol.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from insight_stream.events.inputs import Event

STATE_FORMAT = 3
"""Version of the persisted engine state (user blobs, shared blob, changelog records).

1: the first landing (positional pickles, no header). 2: a one-byte header on every blob,
drain windows and dirty users in the shared blob. 3: the shared blob holds the open model
epoch's queued learning (processor/epochs.py). Bump it whenever a persisted layout changes.
"""

READABLE_FORMATS = (2, 3)
"""Formats this build restores. A format-2 shared blob learnt at every event, so it restores
with nothing queued; user blobs are the same in both. Format 1 is refused by name."""


class StateFormatError(RuntimeError):
    """Persisted state was written by another state format than this build reads."""


@dataclass
class Outputs:
    """What a drain returns: coalesced profiles (None = tombstone, user erased) and alerts."""

    profiles: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    alerts: list[dict[str, Any]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.profiles) + len(self.alerts)


@dataclass
class Checkpoint:
    """State changed since the previous checkpoint: per-user blobs (None = erased) + models."""

    users: dict[str, bytes | None]
    shared: bytes


@dataclass
class EngineStats:
    """Cheap gauges for metrics; computed from counters the engine keeps anyway."""

    active_users: int
    segment_sizes: dict[int, int]
    refits: dict[str, int]
    churn_risk_histogram: list[int]
    quality: dict[str, float]
    stream_time_ms: int
    events: int
    alerts: int
    coverage: float = 0.0
    timers: int = 0
    """Inactivity-timer heap entries (stale ones included until popped)."""
    extra: dict[str, Any] = field(default_factory=dict)
    fairness: dict[str, Any] = field(default_factory=dict)
    """attribute -> group -> rates (processor/fairness.py), refreshed per event-time day."""
    drift: dict[str, int] = field(default_factory=dict)
    """Drift detections per detector (models/drift.py)."""
    model_versions: dict[str, str] = field(default_factory=dict)
    """Hash per shared model at the latest event-time day start (processor/versions.py)."""
    model_versions_at: int | None = None
    """That day start (epoch ms); None before the first boundary (and after a restore)."""


class Engine(Protocol):
    """Decoded events in, outputs out; pure and event-time (no Kafka, no wall clock).

    ``drain(seal=True)`` closes a coalescing window (the engine does so itself at the first
    epoch end after ``seal_every`` of the group's records, and hands it over by
    :meth:`take_sealed`); ``drain(seal=False)`` publishes without closing it, for latency.
    """

    stream_time: int
    model_ops: list[Any]
    """The open model epochs' queued learning (processor/epochs.py)."""
    population: Any
    """Callable giving the ``(user_id, state)`` pairs population refits learn from."""
    seal_every: int
    """Records (the group's) after which a coalescing window closes, at the next epoch end."""
    sealed: list[Outputs]
    """Windows sealed at epoch boundaries, not yet taken (:meth:`take_sealed`)."""
    record_counts: dict[int, dict[int, int]]
    """Epoch end -> input partition -> records folded (published to the group)."""
    group_records: dict[int, int]
    """Epoch end -> records the whole group folded (set by the runtime)."""

    def take_sealed(self) -> list[Outputs]: ...

    def population_due(self, at: int) -> bool:
        """Whether the refits at day start ``at`` read :attr:`population`."""
        ...

    @property
    def epoch_end(self) -> int:
        """The event-time boundary at which the open model epoch closes (0: none yet)."""
        ...

    @property
    def pending(self) -> int:
        """Records processed since the last sealed drain."""
        ...

    def process(self, ev: Event, source: tuple[str, int] = ("", 0)) -> None: ...

    def advance_time(self, now_ms: int) -> None: ...

    def drain(self, seal: bool = True, everyone: bool = True, profiles: bool = True) -> Outputs: ...

    def checkpoint(self) -> Checkpoint: ...

    def restore(
        self, users: Iterable[tuple[str, bytes]], shared: bytes | None, republish: bool = False
    ) -> None: ...

    def forget(self, user_ids: Iterable[str]) -> None: ...

    def stats(self) -> EngineStats: ...
