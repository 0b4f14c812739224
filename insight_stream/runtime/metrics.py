"""Prometheus metrics of ``insight-stream run``, exactly as listed in docs/metrics.md.

One registry per :class:`Metrics` (not the global default) so tests and the demo can run
several loops in one process; the process and platform collectors (RSS, CPU, GC) are
registered on it too. Engine statistics are mapped to gauges once per commit, never per
event: the hot path only touches plain ints that are folded in per batch.

``*_created`` series are switched off process-wide: they double the series count and no
query here needs a counter's creation time (counter resets are visible anyway).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.metrics_core import Metric

from insight_stream import __version__
from insight_stream.events.outputs import DLQ_REASONS

disable_created_metrics()

P = "insight_stream_"
_SECONDS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
_BATCH = (1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 50000)
_LAG = (0.1, 0.5, 1, 5, 30, 60, 300, 3600, 86400, 7 * 86400, 30 * 86400, 365 * 86400)


class RiskHistogram:
    """Collector of users by published churn risk: a gauge histogram (cumulative ``le``).

    The buckets go up and down with the users' risks, so it is a *gauge* histogram (no
    ``rate()``); the text format shows it as a histogram plus a ``_gcount`` gauge. The
    engine keeps decile counts, not the risks, so there is no ``_gsum``. A risk exactly on a
    boundary counts in the bucket above it.
    """

    NAME = P + "churn_risk_ratio"

    def __init__(self) -> None:
        self.counts = [0] * 10  # until the first stats: the engine's deciles, all empty

    def collect(self) -> list[Metric]:
        m = Metric(self.NAME, "Users by published churn risk (gauge histogram).", "gaugehistogram")
        total = 0
        for i, n in enumerate(self.counts):
            total += n
            last = i == len(self.counts) - 1
            le = "+Inf" if last else f"{(i + 1) / len(self.counts):g}"
            m.add_sample(self.NAME + "_bucket", {"le": le}, total)
        m.add_sample(self.NAME + "_gcount", {}, total)
        return [m]


class Metrics:
    """All runtime metrics on a private registry; ``render()`` gives the /metrics body."""

    def __init__(self) -> None:
        r = self.registry = CollectorRegistry(auto_describe=True)
        for collector in (ProcessCollector, PlatformCollector, GCCollector):
            collector(registry=r)  # the default registry's copies are not on ours
        self.consumed = Counter(
            P + "events_consumed_total",
            "Input records consumed (valid or not).",
            ["topic"],
            registry=r,
        )
        self.produced = Counter(
            P + "records_produced_total",
            "Records produced (profiles, alerts, dlq).",
            ["topic"],
            registry=r,
        )
        self.processing = Histogram(
            P + "processing_duration_seconds",
            "Engine time per polled batch (decode + process + drain).",
            buckets=_SECONDS,
            registry=r,
        )
        self.batch_size = Histogram(
            P + "batch_size_records", "Records per polled batch.", buckets=_BATCH, registry=r
        )
        self.event_lag = Histogram(
            P + "event_time_lag_seconds",
            "Wall clock minus event ts, sampled per batch (last event).",
            buckets=_LAG,
            registry=r,
        )
        self.last_event_ts = Gauge(
            P + "last_event_timestamp_seconds",
            "Event time of the newest processed event.",
            registry=r,
        )
        self.consumer_lag = Gauge(
            P + "consumer_lag_records",
            "Fetch high-watermark minus position.",
            ["topic", "partition"],
            registry=r,
        )
        self.watermark = Gauge(
            P + "watermark_timestamp_seconds",
            "Lowest task watermark: event time every assigned task that folded has reached.",
            registry=r,
        )
        self.stream_time = Gauge(
            P + "stream_timestamp_seconds",
            "Engine stream time: largest event time folded (or advanced while idle).",
            registry=r,
        )
        self.timers = Gauge(
            P + "timer_queue_entries",
            "Inactivity-timer heap entries (stale ones included until popped).",
            registry=r,
        )
        self.commits = Counter(P + "commits_total", "Successful offset commits.", registry=r)
        self.commit_duration = Histogram(
            P + "commit_duration_seconds",
            "Group offset commit to the broker, per commit cycle.",
            buckets=_SECONDS,
            registry=r,
        )
        self.checkpoint_duration = Histogram(
            P + "checkpoint_duration_seconds",
            "Engine state snapshot + local SQLite transaction (state and offsets), per cycle.",
            buckets=_SECONDS,
            registry=r,
        )
        self.produce_latency = Histogram(
            P + "produce_latency_seconds",
            "Per flush: first record queued to every record acknowledged by the broker.",
            buckets=_SECONDS,
            registry=r,
        )
        self.rebalances = Counter(
            P + "rebalances_total", "Consumer-group rebalances.", ["kind"], registry=r
        )
        self.assigned = Gauge(
            P + "assigned_partitions", "Partitions currently assigned.", registry=r
        )
        self.dlq = Counter(
            P + "dlq_records_total", "Records sent to the DLQ.", ["reason"], registry=r
        )
        self.alerts = Counter(P + "churn_alerts_total", "Churn alerts published.", registry=r)
        self.profiles = Counter(
            P + "profiles_published_total", "Profiles published (after coalescing).", registry=r
        )
        self.segment_users = Gauge(
            P + "segment_users", "Users per segment id.", ["segment"], registry=r
        )
        self.active_users = Gauge(
            P + "active_users", "Users with state in this instance.", registry=r
        )
        self.refits = Counter(P + "model_refits_total", "Population refits.", ["model"], registry=r)
        self.model_version = Gauge(
            P + "model_version",
            "Hash of each shared model at the latest event-time day start (value: that day).",
            ["model", "version"],
            registry=r,
        )
        self._versions: dict[str, str] = {}
        self.churn_risk = RiskHistogram()
        r.register(self.churn_risk)
        self.coverage = Gauge(
            P + "recommendation_coverage_ratio",
            "Share of catalog items in someone's recommendations/neighbour lists.",
            registry=r,
        )
        self.quality = Gauge(
            P + "model_quality_ratio",
            "Online prequential quality (0-1).",
            ["metric"],
            registry=r,
        )
        self.broker_errors = Counter(
            P + "broker_errors_total",
            "Broker errors (poll/produce/commit/connect) retried.",
            ["operation"],
            registry=r,
        )
        self.last_poll = Gauge(
            P + "last_poll_timestamp_seconds", "Wall time of the last poll (health).", registry=r
        )
        self.task_watermark = Gauge(
            P + "task_watermark_timestamp_seconds",
            "Newest event time folded from a task (partition number of every input topic).",
            ["task"],
            registry=r,
        )
        self.task_buffered = Gauge(
            P + "task_buffered_records",
            "Records fetched and waiting in the event-time merge, per task.",
            ["task"],
            registry=r,
        )
        self.task_blocked = Counter(
            P + "task_blocked_seconds_total",
            "Time the event-time merge waited for a task's empty partition.",
            ["task"],
            registry=r,
        )
        self.task_behind = Counter(
            P + "task_folded_behind_total",
            "Records folded after a later record of another partition, because their own "
            "partition had been released as idle (INSIGHT_MAX_TASK_IDLE_MS): replay folds "
            "them earlier, so live outputs may differ from replay's while this grows.",
            ["task"],
            registry=r,
        )
        self.duplicates = Counter(
            P + "duplicate_events_total",
            "Re-sent events (same event_id within the user's window) folded once, not twice.",
            registry=r,
        )
        self.late = Counter(
            P + "late_events_total",
            "Events behind stream time by more than INSIGHT_ALLOWED_LATENESS, folded in.",
            registry=r,
        )
        self.erasures = Counter(
            P + "erasures_total",
            "user_erased events applied: the user was removed from state, stores and changelog.",
            registry=r,
        )
        self.restored = Counter(
            P + "restore_records_total",
            "Changelog records read to restore partitions without local state.",
            registry=r,
        )
        self.restored_users = Counter(
            P + "restore_users_total", "Users restored from the changelog.", registry=r
        )
        self.restore_duration = Histogram(
            P + "restore_duration_seconds",
            "Time to restore partitions from the changelog.",
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
            registry=r,
        )
        self.changelog_latency = Histogram(
            P + "changelog_produce_seconds",
            "Time from the first changelog record of a commit cycle to its acknowledged marker.",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=r,
        )
        self.model_wait = Counter(
            P + "model_epoch_wait_seconds_total",
            "Time spent waiting for the group to close a model epoch or send its users.",
            registry=r,
        )
        self.model_epoch = Gauge(
            P + "model_epoch_end_timestamp_seconds",
            "Event time of the last model epoch boundary the whole group closed.",
            registry=r,
        )
        self.settled = Gauge(
            P + "settled",
            "1 when every partition is caught up and the open window is re-published: the "
            "output topics then hold what a replay of the input so far gives.",
            registry=r,
        )
        self.fairness = Gauge(
            P + "fairness",
            "Per protected attribute and group (at most 8 groups of >= 100 users per attribute, "
            "recomputed per event-time day): alert_rate, rec_coverage, users and "
            "segment_<id>_share (docs/explanations.md#fairness).",
            ["attribute", "group", "metric"],
            registry=r,
        )
        self._fairness_labels: set[tuple[str, str, str]] = set()
        self.drift = Counter(
            P + "drift_detections_total",
            "ADWIN drift detections on online quality (each triggers an early refit).",
            ["detector"],
            registry=r,
        )
        for detector in ("recs_hit_rate", "churn_calibration", "segment_inertia"):
            self.drift.labels(detector=detector)
        self.build_info = Gauge(P + "build_info", "Always 1.", ["version"], registry=r)
        self.build_info.labels(version=__version__).set(1)
        for reason in DLQ_REASONS:
            self.dlq.labels(reason=reason)
        for op in ("poll", "produce", "commit", "connect", "offset_loss"):
            self.broker_errors.labels(operation=op)
        for kind in ("assigned", "revoked"):
            self.rebalances.labels(kind=kind)
        self._refits_seen: dict[str, float] = {}
        self._lag_labels: set[tuple[str, str]] = set()
        self._segment_labels: set[str] = set()
        self.last_poll_monotonic = time.monotonic()
        self.last_broker_monotonic = time.monotonic()
        self.partitions_assigned = 0

    def polled(self) -> None:
        """Mark the poll loop alive (health) — called every loop iteration."""
        self.last_poll_monotonic = time.monotonic()
        self.last_poll.set(time.time())

    def broker_seen(self, at: float | None = None) -> None:
        """Mark a successful broker interaction (records fetched, heartbeat answered, sends
        acknowledged) at monotonic time ``at`` (default now); /healthz fails without one."""
        at = time.monotonic() if at is None else at
        if at > self.last_broker_monotonic:
            self.last_broker_monotonic = at

    def set_assigned(self, n: int) -> None:
        self.partitions_assigned = n
        self.assigned.set(n)

    def set_lag(self, lag: Mapping[tuple[str, int], int]) -> None:
        """Replace the per-partition lag gauges (drops partitions no longer assigned)."""
        labels = {(t, str(p)) for t, p in lag}
        for stale in self._lag_labels - labels:
            self.consumer_lag.remove(*stale)
        for (t, p), value in lag.items():
            self.consumer_lag.labels(topic=t, partition=str(p)).set(value)
        self._lag_labels = labels

    def observe_tasks(self, tasks: Mapping[int, tuple[int, int, float, int]]) -> None:
        """Per task: (newest folded event time ms, buffered records, and blocked seconds and
        records folded behind since the last call)."""
        for task, (ts, buffered, blocked, behind) in tasks.items():
            label = str(task)
            self.task_watermark.labels(task=label).set(ts / 1000)
            self.task_buffered.labels(task=label).set(buffered)
            self.task_blocked.labels(task=label).inc(blocked)
            self.task_behind.labels(task=label).inc(behind)
        folded = [ts for ts, _, _, _ in tasks.values() if ts]  # a task never fed has no time yet
        if folded:
            self.watermark.set(min(folded) / 1000)

    def observe_stats(self, stats: Any) -> None:
        """Map processor.stats() (EngineStats) to gauges; refit totals become counter deltas."""
        get = (
            (lambda k, d=None: stats.get(k, d))
            if isinstance(stats, Mapping)
            else (lambda k, d=None: getattr(stats, k, d))
        )
        active = get("active_users")
        if active is not None:
            self.active_users.set(active)
        if get("stream_time_ms"):
            self.stream_time.set(get("stream_time_ms") / 1000)
        timers = get("timers")
        if timers is not None:
            self.timers.set(timers)
        sizes = {str(k): v for k, v in (get("segment_sizes") or {}).items()}
        for stale in self._segment_labels - set(sizes):
            self.segment_users.remove(stale)
        for seg, n in sizes.items():
            self.segment_users.labels(segment=seg).set(n)
        self._segment_labels = set(sizes)
        for model, total in (get("refits") or {}).items():
            delta = total - self._refits_seen.get(model, 0)
            child = self.refits.labels(model=model)  # exposed at 0 before the first refit
            if delta > 0:
                child.inc(delta)
            self._refits_seen[model] = total
        self._observe_histogram(get("churn_risk_histogram"))
        self._observe_versions(get("model_versions") or {}, get("model_versions_at"))
        extra = get("extra") or {}
        for name, counter in (
            ("duplicates", self.duplicates),
            ("late_events", self.late),
            ("erasures", self.erasures),
        ):
            total = extra.get(name, 0)
            delta = total - self._refits_seen.get(name, 0)
            if delta > 0:
                counter.inc(delta)
            self._refits_seen[name] = total
        for detector, total in (get("drift") or {}).items():
            key = "drift:" + detector
            delta = total - self._refits_seen.get(key, 0)
            if delta > 0:
                self.drift.labels(detector=detector).inc(delta)
            self._refits_seen[key] = total
        fairness = get("fairness")
        if fairness is not None:
            self._observe_fairness(fairness)
        quality = dict(get("quality") or {})
        coverage = get("coverage", quality.pop("recommendation_coverage", None))
        if coverage is not None:
            self.coverage.set(coverage)
        for name, value in quality.items():
            if value is not None:
                self.quality.labels(metric=str(name)).set(value)

    def _observe_versions(self, versions: Mapping[str, str], at: int | None) -> None:
        """One series per model, labelled with its current hash (the old one is removed)."""
        for model, version in versions.items():
            old = self._versions.get(model)
            if old is not None and old != version:
                self.model_version.remove(model, old)
            self.model_version.labels(model=model, version=version).set((at or 0) / 1000)
            self._versions[model] = version

    def _observe_fairness(self, table: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> None:
        """Replace the fairness gauges (groups that shrank below the minimum disappear)."""
        values: dict[tuple[str, str, str], float] = {}
        for attr, groups in table.items():
            for group, row in groups.items():
                values[(attr, group, "users")] = row["users"]
                for metric in ("alert_rate", "rec_coverage"):
                    if metric in row:  # only groups large enough to compare
                        values[(attr, group, metric)] = row[metric]
                for seg, share in row.get("segment_shares", {}).items():
                    values[(attr, group, f"segment_{seg}_share")] = share
        for stale in self._fairness_labels - set(values):
            self.fairness.remove(*stale)
        for labels, value in values.items():
            self.fairness.labels(*labels).set(value)
        self._fairness_labels = set(values)

    def _observe_histogram(self, hist: Any) -> None:
        """Users per decile of published risk (EngineStats.churn_risk_histogram)."""
        if hist:
            self.churn_risk.counts = list(hist)

    def render(self) -> bytes:
        return generate_latest(self.registry)
