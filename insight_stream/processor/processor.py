"""The Processor: decoded events in, profiles and churn alerts out. Pure, event-time, no Kafka.

Order of work per event: profile -> segment -> recommendations -> churn -> timers.
Outputs are coalesced: a user touched many times between two :meth:`drain` calls
is published once. Alerts are queued at once. See ``CONTRACT.md`` beside this file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from insight_stream.events.inputs import ClickEvent, ControlEvent, Event, OrderEvent
from insight_stream.models.churn import AlertPolicy, ChurnModel
from insight_stream.models.dedup import RecentEvents
from insight_stream.models.drift import DriftMonitor
from insight_stream.models.profile import DAY_MS, ProfileState
from insight_stream.models.recs import Recommender
from insight_stream.models.segments import Segmenter
from insight_stream.processor import epochs, snapshot
from insight_stream.processor.config import EngineConfig
from insight_stream.processor.contract import (
    Checkpoint,
    EngineStats,
    Outputs,
)
from insight_stream.processor.drift import drift_refits
from insight_stream.processor.erasure import erase_user
from insight_stream.processor.errors import RejectedEvent
from insight_stream.processor.fairness import FairnessMonitor
from insight_stream.processor.freshness import RISK_BUCKETS, refresh_published, risk_bucket, stale
from insight_stream.processor.publish import build_profile, complete_alert
from insight_stream.processor.quality import score_quality, snapshot_for_quality
from insight_stream.processor.snapshot import next_hour
from insight_stream.processor.state import UserState
from insight_stream.processor.timers import TimerQueue
from insight_stream.processor.users import UserTable
from insight_stream.processor.versions import model_versions


class Processor:
    """The insight engine.

    >>> from insight_stream.events import EVENT_ADAPTER
    >>> p = Processor()
    >>> p.process(EVENT_ADAPTER.validate_python(dict(event_id="e1", user_id="u1",
    ...     type="product_view", item_id="i1", category="books", price=9.5, ts=0)))
    >>> out = p.drain()
    >>> out.profiles["u1"]["top_categories"]
    [('books', 1.0)]
    """

    def __init__(self, config: EngineConfig | None = None) -> None:
        """Stream time is the newest event time processed.

        Every source feeds events in one merged event-time order (the drive loop's
        :class:`~insight_stream.processor.merge.Merger`), so each event advances time
        and timers exactly as in a file replay, whatever the source.
        """
        self.config = config or EngineConfig()
        self.users = UserTable(self.config.pack_users_above)  # idle users packed (users.py)
        self.segments = Segmenter(self.config.segments)
        self.recs = Recommender(self.config.recs)
        self.churn = ChurnModel(self.config.churn)
        self.alert_policy = AlertPolicy(self.config.churn)
        self.timers = TimerQueue()
        self._first_check = self.config.churn.timer_horizons_days[0] * DAY_MS
        self._republish_delta = self.config.churn.republish_delta
        self.stream_time = 0
        self._next_housekeeping = 0
        self.versions: tuple[int, dict[str, str]] | None = None  # (day start, model hashes)
        self._versions_day: int | None = None
        self.events = 0
        self.alerts_total = 0
        self.seg_sizes: dict[int, int] = {}
        self.risk_hist = [0] * RISK_BUCKETS
        self.quality_orders = 0
        self.quality_hits = 0
        self.quality_hits_repeat = 0  # the list's held items hit (a repeat was bought)
        self.quality_hits_new = 0  # the list's new items hit (a discovery was bought)
        self._quality_pending: dict[str, tuple[str, list[str], list[bool]]] = {}
        self._dirty: dict[str, None] = {}  # changed since the last sealed drain (the window)
        self._touched: dict[str, None] = {}  # changed since the last drain of any kind
        self._pending = 0  # records processed since the last sealed drain
        self._changed: dict[str, None] = {}
        self.tombstones: dict[str, None] = {}  # erased since the last drain
        self.erasures = 0
        self._alerts: list[dict[str, Any]] = []
        # -- hostile input (counters are checkpointed with the shared state) --
        self.dedup = RecentEvents(self.config.dedup_window)
        self._lateness = self.config.allowed_lateness_ms
        self._late_dlq = self.config.late_policy == "dlq"
        self.duplicates = 0
        self.late_events = 0
        self.fairness = FairnessMonitor()  # derived from users: not checkpointed
        self.drift = DriftMonitor()  # checkpointed with the shared models
        self.model_ops: list[epochs.Op] = []  # this epoch's learning (processor/epochs.py)
        self._order: tuple[int, str, int] = (0, "", 0)  # the folding event's merge key
        # -- coalescing windows end at epoch boundaries (processor/epochs.py) --
        self.seal_every = self.config.flush_events  # the drive loop sets its flush_events
        self.window_records = 0  # records the group folded in the window's closed epochs
        self.record_counts: dict[int, dict[int, int]] = {}  # epoch end -> partition -> records
        self._epoch_counts: dict[int, int] = {}  # the open epoch's, in record_counts
        self.group_records: dict[int, int] = {}  # epoch end -> the group's records (runtime)
        self.sealed: list[Outputs] = []  # windows sealed at boundaries, for the drive loop
        self.population: Callable[[], Iterable[tuple[str, UserState]]] = self._in_order
        """Users the population refits learn from, sorted by id: this engine's own, or
        the whole group's where engines share their models (processor/epochs.py)."""

    # -- input ------------------------------------------------------------------------
    def process(self, ev: Event, source: tuple[str, int] = ("", 0)) -> None:
        """Fold one event into the state; fires inactivity timers that fell due.

        ``source`` (input topic, partition) orders this event's model ops among those of
        engines holding other partitions, as the drive loop's merge orders records.

        A re-sent ``event_id`` (within the user's dedup window) changes nothing and is
        counted in ``duplicates``. An event more than ``allowed_lateness_ms`` behind
        stream time is counted in ``late_events`` and folded (policy ``fold``), or
        refused with :class:`RejectedEvent` ``("late", ...)`` and no change (``dlq``).
        """
        ts = ev.ts
        # -- hostile input: checks before any state (stream time included) moves;
        # an erasure is never skipped (privacy), so it is exempt --
        recent = b""
        if not isinstance(ev, ControlEvent):
            u0 = self.users.get(ev.user_id)
            recent = self.dedup.add(u0.recent if u0 is not None else b"", ev.event_id)
            if recent is None:
                self.duplicates += 1
                return
            if ts < self.stream_time - self._lateness:
                if self._late_dlq:
                    raise RejectedEvent(
                        "late",
                        f"ts {ts} is {self.stream_time - ts} ms behind stream time "
                        f"{self.stream_time}, more than the allowed lateness {self._lateness} ms",
                    )
                self.late_events += 1
        # -- end hostile input --
        if ts > self.stream_time:
            self.stream_time = ts
            if ts >= self._next_housekeeping:
                epochs.end_epochs(self, ts)
            due = self.timers.next_due()
            if due is not None and due <= ts:
                self._fire_timers(ts)
        self._pending += 1  # the window counts folded records only
        counts, part = self._epoch_counts, source[1]
        counts[part] = counts.get(part, 0) + 1
        self._order = (ts, *source)
        uid = ev.user_id
        u = self.users.get(uid)
        if u is None:
            if isinstance(ev, ControlEvent):
                self._erase(uid)
                return
            u = UserState(ProfileState(ts), self.churn.new_user(), self.recs.new_user())
            self.users[uid] = u
        elif isinstance(ev, ControlEvent):
            self._erase(uid)
            return
        self.events += 1
        u.recent = recent  # hostile input: commit the dedup ring of an accepted event
        p = u.profile
        if isinstance(ev, ClickEvent):
            sessions = p.sessions
            sid = ev.session_id
            if sid is not None and sid != p.session and self.config.track_quality:
                self._snapshot_for_quality(uid, u, sid, ts)
            p.on_click(ev, self.config.profile)
            op = self.recs.learn_click(u.recs, ev)
            if op is not None:
                self.queue_op(epochs.RECS, op)
            self.churn.on_event(u.churn, ev)
            if p.sessions != sessions:
                self._segment(uid, u, ts)
        else:
            assert isinstance(ev, OrderEvent)
            if ev.type == "order_placed" and self._quality_pending:
                self._score_quality(uid, u, ev)
            p.on_order(ev, self.config.profile)
            self.churn.on_event(u.churn, ev)
            self._segment(uid, u, ts)
            op = self.recs.learn_order(u.recs, ev, u.segment)
            if op is not None:
                self.queue_op(epochs.RECS, op)
        if ts >= u.updated_at:
            u.updated_at = ts
        if u.timer_at is None or u.timer_at > ts + self._first_check:
            self._schedule(uid, u, ts)  # a timer set during a long silence is too late now
        self._dirty[uid] = None
        self._touched[uid] = None
        self._changed[uid] = None

    def queue_op(self, kind: int, op: tuple) -> None:
        """Queue learning for the shared models until the epoch ends (processor/epochs.py)."""
        self.model_ops.append((self._next_housekeeping, self._order, kind, op))

    @property
    def epoch_end(self) -> int:
        """The event-time boundary at which the open model epoch closes (0: none yet)."""
        return self._next_housekeeping

    @property
    def pending(self) -> int:
        """Records processed since the last sealed drain (the drive loop seals on it)."""
        return self._pending

    def advance_time(self, now_ms: int) -> None:
        """Move stream time forward while input is idle, firing due timers (liveness)."""
        if now_ms > self.stream_time:
            self.stream_time = now_ms
            if now_ms >= self._next_housekeeping:
                epochs.end_epochs(self, now_ms)
            self._fire_timers(now_ms)

    # -- timers and alerts ---------------------------------------------------------------
    def _schedule(
        self,
        uid: str,
        u: UserState,
        now: int,
        shown: float | None = None,
        risk: float | None = None,
    ) -> None:
        due = self.churn.next_check_ms(u.churn, now, shown, risk)
        if due is not None:
            u.timer_at = due
            self.timers.push(due, uid)

    def _fire_timers(self, now: int) -> None:
        users = self.users
        for due, uid in list(self.timers.pop_due(now)):
            u = users.view(uid)  # a packed user stays packed unless re-published
            if u is None or u.timer_at != due:
                continue  # erased, forgotten or rescheduled
            u.timer_at = None
            if due > u.updated_at:
                u.updated_at = due
            alerts = self.alerts_total
            risk = self._check_alert(uid, u, due)
            self._changed[uid] = None
            if alerts != self.alerts_total or stale(u, risk, self._republish_delta):
                self._dirty[uid] = None  # re-published: an alert, or the shown risk is stale
                self._touched[uid] = None
                self._schedule(uid, u, due, risk=risk)
            else:  # not re-published: the next check counts from the risk still shown
                self._schedule(uid, u, due, u.published_risk, risk)
            users.put(uid, u)

    def _refit_models(self, now: int) -> None:
        """Population refits on event-time schedules (churn parameters, segment refinement).

        Checked at every hour boundary of event time (``now``), so a restored engine, or one
        holding other partitions, checks at the same instants. Refits that read every user
        run at day starts only (the churn schedule is in days; segment refinement and
        drift-driven refits wait for the next day start), so a group of instances exchanges
        its users once a day at most.
        """
        self._next_housekeeping = next_hour(now)
        self._epoch_counts = self.record_counts.setdefault(self._next_housekeeping, {})
        day = now // DAY_MS
        if day != self._versions_day:  # before the day's refits: see processor/versions.py
            self._versions_day = day
            self.versions = (day * DAY_MS, model_versions(self))
        scale = self.churn.fingerprint()
        self.churn.maybe_refit(self._churn_users, now)  # day-based: acts at day starts only
        if now % DAY_MS == 0:  # population reads only at day starts: a group exchanges its
            if self.segments.maybe_refit(self._profiles, now):  # users there (runtime/sharing.py)
                self._reassign_segments()
            drift_refits(self, now)
        if self.churn.fingerprint() != scale:
            refresh_published(self, now)

    def population_due(self, at: int) -> bool:
        """Whether the refits at day start ``at`` read :attr:`population` (as the models
        stand before it: a drift request raised by the hour before it may be missed). A
        group gathers every partition's users for those day starts only; a refit the
        answer missed still gets them, by a slower exchange from inside the refit."""
        if self.churn.population_due(at):
            return True
        if at % DAY_MS:  # segment and drift refits run at day starts only (_refit_models)
            return False
        drift, seg = self.drift, self.segments
        return (
            seg.population_due(at)
            or drift.wants_refit("churn", at)
            or (seg.ready and drift.wants_refit("segments", at))
        )

    def _reassign_segments(self) -> None:
        """After a segment refit, move every user to their nearest (refined) centre.

        Users are otherwise assigned only at their own events; without this, a
        customer who went quiet would keep an assignment made under the old centres.
        Changed profiles are re-published. Per refit (every ``refit_every_days`` of
        event time), never per event.
        """
        changed, dirty, touched = self._changed, self._dirty, self._touched
        for uid, u in self._in_order():
            before = u.segment
            seg = self.segments.predict(u.profile)
            if seg != before:
                if before is not None:
                    self.seg_sizes[before] -= 1
                if seg is not None:
                    self.seg_sizes[seg] = self.seg_sizes.get(seg, 0) + 1
                self.users[uid].segment = seg  # the live state: ``u`` may be a packed copy
                changed[uid] = None
                dirty[uid] = None
                touched[uid] = None

    def _in_order(self) -> Iterable[tuple[str, UserState]]:
        """Users sorted by id: population fits must not depend on dict order, which a
        restored engine cannot reproduce (floating-point sums and optimisers are order
        sensitive). Sorting costs milliseconds, once per refit."""
        view = self.users.view  # for reading: packed users stay packed, parts decoded on read
        return ((uid, view(uid)) for uid in sorted(self.users))  # type: ignore[misc]

    def _profiles(self) -> Iterable[ProfileState]:
        return (u.profile for _, u in self.population())

    def _check_alert(self, uid: str, u: UserState, now: int) -> float:
        """Queue an alert if the policy raises one; returns the risk at ``now``.

        Reasons are worked out only at or above the threshold: below it the policy raises
        nothing (most timer checks are freshness refreshes, not alerts)."""
        risk = self.churn.risk(u.churn, now)
        reasons: list[str] = []
        if risk >= self.alert_policy.config.alert_threshold:
            risk, reasons = self.churn.score(u.churn, now)
        alert = self.alert_policy.check(uid, u.churn, risk, u.profile.net, now, reasons)
        if alert is not None:
            self._alerts.append(complete_alert(self, alert, u))
            self.alerts_total += 1
        return risk

    def _churn_users(self) -> Iterable[Any]:
        return (u.churn for _, u in self.population())

    def _snapshot_for_quality(self, uid: str, u: UserState, sid: str, ts: int) -> None:
        snapshot_for_quality(self, uid, u, sid, ts)  # processor/quality.py

    def _score_quality(self, uid: str, u: UserState, ev: OrderEvent) -> None:
        score_quality(self, uid, u, ev)

    # -- erasure ----------------------------------------------------------------------
    def _erase(self, uid: str) -> None:
        erase_user(self, uid)  # processor/erasure.py lists every store

    def _unpublish(self, u: UserState) -> None:
        if u.segment is not None:
            self.seg_sizes[u.segment] -= 1
        if u.published_bucket is not None:
            self.risk_hist[u.published_bucket] -= 1

    def forget(self, user_ids: Iterable[str]) -> None:
        """Drop users whose partition moved to another instance (no tombstones)."""
        for uid in user_ids:
            u = self.users.pop(uid, None)
            if u is not None:
                self._unpublish(u)
            self._quality_pending.pop(uid, None)
            self._dirty.pop(uid, None)
            self._touched.pop(uid, None)
            self._changed.pop(uid, None)

    # -- output -----------------------------------------------------------------------
    def drain(self, seal: bool = True, everyone: bool = True, profiles: bool = True) -> Outputs:
        """Profiles to publish (one per user) and the alerts queued since the last drain.

        A *sealed* drain closes the coalescing window: every user changed in it is built
        once, from the state at this point. Windows are sealed at the first epoch end after
        ``seal_every`` records (the group's: processor/epochs.py ``seal_window``), so windows
        (and hence the profiles that end them) are the same on every source. An unsealed
        drain publishes early for latency and leaves the window open: ``everyone`` rebuilds
        the whole window (a *settle*: what a sealed drain here would give), otherwise only the users
        changed since the previous drain. Profiles depend on global models, so only
        sealed and settle drains are reproducible; the last profile of each user always
        comes from one of them. ``profiles=False`` (unsealed only) returns just the queued
        alerts: a runtime behind its input publishes profiles at window ends only, but must
        hand alerts on before every checkpoint (they are not part of it).
        """
        out = Outputs(profiles=dict(self.tombstones), alerts=self._alerts)
        self._alerts, self.tombstones = [], {}
        self.segments.invalidate_portraits()
        users, changed = self.users, self._changed
        if not (profiles or seal):
            return out
        for uid in self._dirty if everyone or seal else self._touched:
            u = users.get(uid)
            if u is None:  # held elsewhere: its owner publishes it (erasures: tombstones)
                continue
            profile = build_profile(self, uid, u)
            risk = profile["churn"]["risk"]
            bucket = risk_bucket(risk)
            if (seal and risk != u.published_risk) or bucket != u.published_bucket:
                changed[uid] = None  # a checkpoint inside the window stored the old values
            if seal:  # only window ends are the same on every source: decisions read them
                u.published_risk = risk
            if u.published_bucket is not None:
                self.risk_hist[u.published_bucket] -= 1
            self.risk_hist[bucket] += 1
            u.published_bucket = bucket
            out.profiles[uid] = profile
        self._touched = {}
        if seal:
            users.pack_idle(keep=self._dirty)  # idle for a whole window: packed (users.py)
            self._dirty = {}
            self._pending = 0
            self.window_records = 0
        return out

    def take_sealed(self) -> list[Outputs]:
        """Windows sealed at epoch boundaries since the last call (the drive loop emits them)."""
        sealed, self.sealed = self.sealed, []
        return sealed

    def _segment(self, uid: str, u: UserState, ts: int) -> None:
        """Queue learning from, and (re)assign, the user's segment, at their own events only.

        Assigning here rather than at drain keeps state independent of when
        batches happen to be flushed (crash-restart equals an uninterrupted run).
        """
        op = self.segments.observe(uid, u.profile, ts)
        if op is not None:
            self.queue_op(epochs.SEGMENTS, op)
        seg = self.segments.predict(u.profile)  # the centres as the epoch started
        if seg != u.segment:
            if u.segment is not None:
                self.seg_sizes[u.segment] -= 1
            if seg is not None:
                self.seg_sizes[seg] = self.seg_sizes.get(seg, 0) + 1
            u.segment = seg

    def recommend(self, user_id: str, k: int = 10) -> list[str]:
        """Top-``k`` item ids for a user now (cold start if unknown)."""
        u = self.users.peek(user_id)
        if u is None:
            return [r[0] for r in self.recs.recommend(self.recs.new_user(), self.stream_time, k)]
        cats = u.profile.top_categories(self.config.profile.top_categories)
        return [r[0] for r in self.recs.recommend(u.recs, self.stream_time, k, u.segment, cats)]

    def churn_risk(self, user_id: str, now_ms: int | None = None) -> float:
        """Churn risk of a user at ``now_ms`` (default: stream time); 1.0 if unknown."""
        u = self.users.peek(user_id)
        if u is None:
            return 1.0
        return self.churn.score(u.churn, self.stream_time if now_ms is None else now_ms)[0]

    def churn_users(self) -> Iterable[Any]:
        """Per-user churn states (for population fits in evaluation)."""
        return self._churn_users()

    def stats(self) -> EngineStats:
        quality = {}
        if self.quality_orders:
            n = self.quality_orders
            quality["recs_hit_rate_at_10"] = self.quality_hits / n
            quality["recs_repeat_hit_rate_at_10"] = self.quality_hits_repeat / n
            quality["recs_discovery_hit_rate_at_10"] = self.quality_hits_new / n
        return EngineStats(
            active_users=len(self.users),
            segment_sizes={s: n for s, n in sorted(self.seg_sizes.items()) if n},
            refits={"churn": self.churn.refits, "segments": self.segments.refits},
            churn_risk_histogram=list(self.risk_hist),
            quality=quality,
            stream_time_ms=self.stream_time,
            events=self.events,
            alerts=self.alerts_total,
            coverage=self.recs.coverage(),
            timers=len(self.timers),
            extra={
                "duplicates": self.duplicates,
                "late_events": self.late_events,
                "erasures": self.erasures,
            },
            fairness=self.fairness.table(self.users.values(), self.stream_time),
            drift=dict(self.drift.detections),
            model_versions=dict(self.versions[1]) if self.versions else {},
            model_versions_at=self.versions[0] if self.versions else None,
        )

    # -- checkpointing (processor/snapshot.py) ----------------------------------------
    def checkpoint(self) -> Checkpoint:
        """Per-user blobs changed since the last checkpoint, and the global models.

        Every blob starts with one byte, the state format (:data:`STATE_FORMAT`).
        """
        return snapshot.checkpoint(self)

    def restore(
        self, users: Iterable[tuple[str, bytes]], shared: bytes | None, republish: bool = False
    ) -> None:
        """Load state written by :meth:`checkpoint` (trusted stores only: local file, changelog).

        ``republish``: the users join a running engine (their partition moved here), so the
        open window of the engine that had them is lost; they join this one's, so their
        profiles are published again at its end.

        Raises :class:`StateFormatError` naming both formats when the state was written
        by another format, before anything is loaded from that blob.
        """
        snapshot.restore(self, users, shared, republish)
