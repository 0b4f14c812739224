"""Drift detection on the engine's own online quality signals (river's ADWIN).

Three streams, each fed in event-time order so a replay, a restart and a live run see
the same detections:

* ``recs_hit_rate``: 1/0 per prequentially scored order (did the top 10 shown as the
  session started hold a bought item);
* ``churn_calibration``: risk minus outcome per delayed label, scored with the blend as
  it was before it learned from that label (a shift in the mean = miscalibration);
* ``segment_inertia``: distance of each learning profile to its segment centre.

Only changes for the worse count (ADWIN itself is two-sided): a falling hit rate, a
growing inertia, a growing absolute calibration error. A shop getting better, or
profiles maturing towards their centres, is not a reason to refit.

A detection is counted, logged and kept as an event (bounded list), and asks for an
early refit of the model it concerns (:meth:`DriftMonitor.take_refit`); the engine
honours it at its next hourly housekeeping, at most once per ``min_gap_ms`` of event
time per model so a burst of detections cannot become a refit storm. The detectors are
checkpointed with the shared model state.
"""

from __future__ import annotations

import logging
from typing import Any

from river.drift import ADWIN

log = logging.getLogger(__name__)

DETECTORS: tuple[str, ...] = ("recs_hit_rate", "churn_calibration", "segment_inertia")
REFITS: dict[str, str] = {"churn_calibration": "churn", "segment_inertia": "segments"}
"""Detector -> the model refitted early. The recommender learns online (decayed
co-occurrence) and has no batch refit: its drift is reported only."""
WORSE: dict[str, int] = {"recs_hit_rate": -1, "churn_calibration": 0, "segment_inertia": 1}
"""Direction of a change for the worse: -1 down, +1 up, 0 away from zero."""
MAX_EVENTS = 50


class DriftMonitor:
    """One ADWIN per quality signal; counts, events and pending early refits.

    >>> m = DriftMonitor()
    >>> fired = [m.update("recs_hit_rate", 1.0 if i < 1000 else 0.0, i) for i in range(2000)]
    >>> first = fired.index(True)
    >>> 1000 < first < 1100, m.detections["recs_hit_rate"] >= 1
    (True, True)
    >>> m.take_refit("segments", 0), m.events[0]["detector"]
    (False, 'recs_hit_rate')
    >>> better = DriftMonitor()
    >>> any(better.update("recs_hit_rate", 0.0 if i < 1000 else 1.0, i) for i in range(2000))
    False
    """

    def __init__(self, delta: float = 0.002, min_gap_ms: int = 86_400_000) -> None:
        self.delta = delta
        self.min_gap_ms = min_gap_ms
        self.detectors: dict[str, ADWIN] = {name: ADWIN(delta=delta) for name in DETECTORS}
        self.detections: dict[str, int] = dict.fromkeys(DETECTORS, 0)
        self.events: list[dict[str, Any]] = []
        self._wanted: dict[str, int] = {}  # model -> event time of the detection asking
        self._refitted: dict[str, int] = {}  # model -> event time of its last early refit

    def update(self, name: str, value: float, ts: int) -> bool:
        """Feed one value observed at event time ``ts``; True on a detected drift."""
        d = self.detectors[name]
        before = d.estimation
        d.update(value)
        if not d.drift_detected:
            return False
        after, way = d.estimation, WORSE[name]
        if (after - before) * way <= 0 if way else abs(after) <= abs(before):
            return False
        self.detections[name] += 1
        event = {
            "detector": name,
            "ts": ts,
            "before": round(before, 6),
            "after": round(after, 6),
            "window": int(d.width),
        }
        self.events = [*self.events[-(MAX_EVENTS - 1) :], event]
        log.warning("drift detected: %s", event)
        model = REFITS.get(name)
        if model is not None:
            self._wanted.setdefault(model, ts)
        return True

    def wants_refit(self, model: str, now: int) -> bool:
        """Whether :meth:`take_refit` at ``now`` would say True (nothing taken)."""
        if model not in self._wanted:
            return False
        last = self._refitted.get(model)
        return last is None or now - last >= self.min_gap_ms

    def take_refit(self, model: str, now: int) -> bool:
        """True once per pending request for ``model`` (respecting ``min_gap_ms``)."""
        if not self.wants_refit(model, now):
            return False
        del self._wanted[model]
        self._refitted[model] = now
        return True

    def summary(self) -> dict[str, Any]:
        """Detections per detector and the detection events (for reports)."""
        return {"detections": dict(self.detections), "events": list(self.events)}
