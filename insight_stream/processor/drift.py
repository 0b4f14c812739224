"""Drift-driven early refits: feed the delayed churn labels to their detector and honour
the refits the detectors ask for (:mod:`insight_stream.models.drift`).

Called from the Processor's hourly, event-time-aligned housekeeping, so a restored
engine refits at the same instants as an uninterrupted one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from insight_stream.processor.processor import Processor


def drift_refits(proc: Processor, now: int) -> None:
    """Calibration residuals of the epoch just labelled, then any early refit due."""
    churn, drift = proc.churn, proc.drift
    batch = getattr(churn, "calibration", None)  # absent in models pickled before drift
    if batch:
        for risk, label in batch:
            drift.update("churn_calibration", risk - label, now)
        churn.calibration = []
    if drift.take_refit("churn", now):
        buyers = [u for u in proc.churn_users() if u.first_day >= 0]
        if len(buyers) >= churn.config.min_users_for_fit:
            churn.fit(buyers, now)
    if proc.segments.ready and drift.take_refit("segments", now):
        proc.segments.refit(proc._profiles(), now)
        proc._reassign_segments()
