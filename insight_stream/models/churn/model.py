"""The churn model: per-user O(1) updates, population refits and delayed labels.

Per event only counters move (:meth:`ChurnModel.on_event`). Scores are computed
when asked (profile flush, inactivity timer). Population work happens in
:meth:`ChurnModel.maybe_refit`, on event time:

* every ``refit_every_days``: maximum-likelihood BG/NBD params from all buyers;
* on each label-grid boundary (every ``label_horizon_days``, epoch-aligned): the
  epoch that just ended is labelled. A user's features are taken as of the epoch
  start (their ``snap``, saved at their first event in the epoch, or their current
  state if they stayed silent), and the label is "no activity at all during the
  epoch" (no order, no click: the customer is gone; on order-only data such as
  CDNOW this is "no purchase"). The
  labels are therefore known at the time they are used: no look-ahead.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterable

import numpy as np

from insight_stream.models.churn import bgnbd
from insight_stream.models.churn.config import ChurnConfig
from insight_stream.models.churn.scorer import LogisticBlend, feature_curve, features, reasons
from insight_stream.models.churn.state import DAY_MS, ChurnUser, Snapshot

_LN2 = math.log(2.0)
_RETURNS = frozenset({"order_cancelled", "order_returned"})


class ChurnModel:
    """BG/NBD + learned blend churn model over :class:`ChurnUser` states.

    >>> from insight_stream.events import OrderEvent
    >>> m = ChurnModel(ChurnConfig())
    >>> u = m.new_user()
    >>> day = 10_000 * DAY_MS
    >>> for i, d in enumerate((0, 0, 10, 20, 30)):
    ...     m.on_event(u, OrderEvent(event_id=f"e{i}", order_id=f"o{i}", user_id="u",
    ...                              type="order_placed", total=25.0, ts=day + d * DAY_MS))
    >>> u.x, u.orders, u.value
    (3, 5, 125.0)
    >>> active, _ = m.score(u, day + 32 * DAY_MS)
    >>> silent, why = m.score(u, day + 120 * DAY_MS)
    >>> active < 0.5 < silent, why[0]
    (True, 'no order for 90 days (usual gap 10)')
    """

    def __init__(self, config: ChurnConfig | None = None) -> None:
        self.config = config or ChurnConfig()
        self._params: bgnbd.Params = tuple(self.config.prior)  # type: ignore[assignment]
        self.refits = 0
        self.blend = LogisticBlend()
        self.examples: deque[tuple[Snapshot, int, int]] = deque(
            maxlen=self.config.max_label_examples
        )
        self._last_refit_day: int | None = None
        self._labelled_epoch: int | None = None
        self._order_k = _LN2 / self.config.order_half_life_days
        self._click_k = _LN2 / self.config.click_half_life_days
        self._epoch_days = self.config.label_horizon_days
        # (risk as scored before learning, label) of the last labelled epoch: the
        # delayed outcomes the engine's calibration drift detector reads
        self.calibration: list[tuple[float, int]] = []

    # --- per event -------------------------------------------------------------------

    @staticmethod
    def new_user() -> ChurnUser:
        """A fresh, empty per-user state."""
        return ChurnUser()

    def on_event(self, u: ChurnUser, event: object) -> None:
        """Fold one event into ``u`` in O(1): orders, cancellations/returns, clicks.

        Orders on the same UTC day are one transaction. A late order (before the last
        purchase day) counts as a repeat unless it falls on the first or last day.
        """
        ts: int = event.ts  # type: ignore[attr-defined]
        day = ts // DAY_MS
        epoch = day // self._epoch_days
        if epoch > u.snap_epoch:  # first event in this label epoch: keep the state at its start
            u.snap = u.snapshot() if u.last_ts >= 0 else None
            u.snap_epoch = epoch
        if ts > u.last_ts:
            u.last_ts = ts
        kind: str = event.type  # type: ignore[attr-defined]
        if kind == "order_placed":
            u.orders += 1
            u.value += event.total  # type: ignore[attr-defined]
            last = u.last_day
            if last < 0:
                u.first_day = u.last_day = day
                u.order_decay = 1.0
            elif day > last:
                u.order_decay = u.order_decay * math.exp(-self._order_k * (day - last)) + 1.0
                u.last_day = day
                u.x += 1
            elif day != last and day != u.first_day:
                u.order_decay += math.exp(-self._order_k * (last - day))
                u.x += 1
                if day < u.first_day:
                    u.first_day = day
        elif kind in _RETURNS:
            u.value -= event.total  # type: ignore[attr-defined]
        elif kind != "user_erased":
            last = u.click_last_day
            if day > last:
                if last < 0:
                    u.click_first_day = day
                    u.click_decay = 1.0
                else:
                    u.click_decay = u.click_decay * math.exp(-self._click_k * (day - last)) + 1.0
                u.click_last_day = day
                u.click_days += 1

    # --- scores ----------------------------------------------------------------------

    @property
    def params(self) -> dict[str, float]:
        """Current BG/NBD population params (time unit: ``config.time_unit_days``)."""
        r, alpha, a, b = self._params
        return {"r": r, "alpha": alpha, "a": a, "b": b}

    def bgnbd_stats(self, u: ChurnUser, now_ms: int) -> tuple[int, float, float]:
        """BG/NBD (x, t_x, T) of ``u`` at ``now_ms``, in the model's time unit."""
        unit = self.config.time_unit_days
        now_day = now_ms // DAY_MS
        return u.x, (u.last_day - u.first_day) / unit, max(now_day - u.first_day, 0) / unit

    def p_alive(self, u: ChurnUser, now_ms: int) -> float:
        """BG/NBD P(alive | x, t_x, T); 1.0 for users who never ordered."""
        if u.first_day < 0:
            return 1.0
        return bgnbd.p_alive(self._params, *self.bgnbd_stats(u, now_ms))

    def risk(self, u: ChurnUser, now_ms: int) -> float:
        """Risk in [0, 1]: P(no activity in the next ``label_horizon_days``)."""
        return self._risk_of(u.snapshot(), now_ms)

    def _risk_of(self, snap: Snapshot, now_ms: int) -> float:
        f = features(snap, now_ms // DAY_MS, self._params, self.config, not self.blend.learned)
        return self.blend.risk(f)

    def fingerprint(self) -> tuple[object, ...]:
        """Changes whenever a refit changed how risk is scored (params or the blend)."""
        b = self.blend
        return (self.refits, b.learned, b.weights, b.center)

    def score(self, u: ChurnUser, now_ms: int) -> tuple[float, list[str]]:
        """Risk and the readable reasons behind it (strongest first)."""
        now_day = now_ms // DAY_MS
        snap = u.snapshot()
        f = features(snap, now_day, self._params, self.config, not self.blend.learned)
        risk = self.blend.risk(f)
        why = reasons(snap, now_day, self.p_alive(u, now_ms), self.blend.contributions(f))
        return risk, why

    def explain(
        self, u: ChurnUser, now_ms: int, n: int = 3
    ) -> tuple[float, list[str], list[dict[str, float | str]]]:
        """:meth:`score` plus the ``n`` strongest signed feature contributions."""
        now_day = now_ms // DAY_MS
        snap = u.snapshot()
        f = features(snap, now_day, self._params, self.config, not self.blend.learned)
        blend = self.blend
        why = reasons(snap, now_day, self.p_alive(u, now_ms), blend.contributions(f))
        return blend.risk(f), why, blend.top_features(f, n)

    def next_check_ms(
        self, u: ChurnUser, now_ms: int, shown: float | None = None, risk: float | None = None
    ) -> int | None:
        """When this user's inactivity timer should fire next, or None (no more checks).

        The next step of the ``timer_horizons_days`` ladder counted from the last event,
        or, if sooner, the moment (to the day) silence carries the risk across the alert
        threshold or more than ``republish_delta`` above ``shown`` (the risk on the user's
        published profile; default: the risk now, being published). A fired timer
        re-publishes the profile, so a published risk never trails the engine's by more
        than that delta (between refits; a refit re-publishes the users it moved). After a
        refresh (``shown`` None) the next one comes no sooner than ``refresh_spacing_days``
        unless the risk moves :data:`DECILE` first, capped at the alert threshold. Only
        the crossings once mattered, which left a quiet customer's published risk as it
        was at their last purchase (0.04 shown where 0.91 was true, on CDNOW).
        ``risk``: the risk at ``now_ms`` when the caller has it (a fired timer does).
        """
        if u.last_ts < 0:
            return None
        steps = (u.last_ts + h * DAY_MS for h in self.config.timer_horizons_days)
        step = next((at for at in steps if at > now_ms), None)
        if step is None:
            return None
        threshold = self.config.alert_threshold
        spacing = int(self.config.refresh_spacing_days * DAY_MS)
        curve = feature_curve(u.snapshot(), self._params, self.config, not self.blend.learned)
        blend = self.blend.risk
        base = blend(curve(now_ms // DAY_MS)) if risk is None else risk
        ref = base if shown is None else min(base, shown)
        target = ref + self.config.republish_delta
        if base < threshold:
            target = min(target, threshold)
        if blend(curve(step // DAY_MS)) < target:
            return step
        at = _first_reaching(curve, blend, now_ms, step, target)
        if at >= now_ms + spacing or shown is not None:  # a check that did not refresh
            return at  # is not one to space from (the shown risk is older than ``now``)
        soonest = now_ms + spacing
        # the delta comes sooner than refresh_spacing_days allows: wait, unless the risk
        # moves a decile first (capped at the alert threshold: alerts are never delayed)
        wait = min(soonest, step)
        far = ref + DECILE
        if base < threshold:
            far = min(far, threshold)
        if blend(curve(wait // DAY_MS)) >= far:
            return _first_reaching(curve, blend, now_ms, wait, far)
        return wait

    # --- population fits ---------------------------------------------------------------

    def fit(self, users: Iterable[ChurnUser], now_ms: int) -> dict[str, float]:
        """Fit BG/NBD params by maximum likelihood on the buyers' (x, t_x, T) at ``now_ms``.

        Identical triples are grouped (days are integers), so the fit costs
        O(distinct triples). The learned blend is refitted too, with the new params.
        """
        now_day = now_ms // DAY_MS
        counts: dict[tuple[int, int, int], int] = {}
        for u in users:
            if 0 <= u.first_day <= now_day:
                key = (u.x, u.last_day - u.first_day, now_day - u.first_day)
                counts[key] = counts.get(key, 0) + 1
        if counts:
            arr = np.array(list(counts), dtype=float)
            unit = self.config.time_unit_days
            weights = np.fromiter(counts.values(), dtype=float, count=len(counts))
            try:
                self._params = bgnbd.fit(
                    arr[:, 0], arr[:, 1] / unit, arr[:, 2] / unit, self._params, weights
                )
                self.refits += 1
            except ValueError:
                pass  # keep the previous params: a bad fit must never stop the stream
        self._last_refit_day = now_day
        self._fit_blend()
        return self.params

    def population_due(self, now_ms: int) -> bool:
        """Whether :meth:`maybe_refit` at ``now_ms`` reads the users (labels or a fit due)."""
        now_day = now_ms // DAY_MS
        labelled, refitted = self._labelled_epoch, self._last_refit_day
        return (labelled is not None and now_day // self._epoch_days - 1 > labelled) or (
            refitted is not None and now_day - refitted >= self.config.refit_every_days
        )

    def maybe_refit(self, users: Callable[[], Iterable[ChurnUser]], now_ms: int) -> bool:
        """Label a finished epoch and refit when due on event time; True if params refit.

        Cheap when nothing is due, so it can be called per batch. Call it at least once
        per ``label_horizon_days`` of stream time or an epoch's labels are skipped.
        """
        now_day = now_ms // DAY_MS
        epoch = now_day // self._epoch_days
        labelled = False
        if self._labelled_epoch is None:
            self._labelled_epoch = epoch - 1
        elif epoch - 1 > self._labelled_epoch:
            self._label_epoch(users(), epoch - 1)
            self._labelled_epoch = epoch - 1
            labelled = True
        buyers = None
        if self._last_refit_day is None:
            self._last_refit_day = now_day
        elif now_day - self._last_refit_day >= self.config.refit_every_days:
            buyers = [u for u in users() if u.first_day >= 0]
            if len(buyers) < self.config.min_users_for_fit:
                self._last_refit_day = now_day
                buyers = None
        if buyers is not None:
            self.fit(buyers, now_ms)
            return True
        if labelled:
            self._fit_blend()
        return False

    def _label_epoch(self, users: Iterable[ChurnUser], epoch: int) -> None:
        """Turn every buyer's state at the start of ``epoch`` into an example."""
        start = epoch * self._epoch_days
        as_of = start - 1  # scores at the end of the previous day, like an end-of-day cut
        self.calibration = calibration = []
        fallback = not self.blend.learned
        for u in users:
            if u.snap_epoch == epoch:
                snap, churned = u.snap, False  # any event in the epoch: still active
            elif u.snap_epoch == epoch + 1 and u.snap is not None and u.snap[9] // DAY_MS < start:
                snap, churned = u.snap, True  # silent all epoch; its next snapshot still holds
            elif u.snap_epoch < epoch:
                snap, churned = u.snapshot(), True
            else:
                continue  # the start-of-epoch state was overwritten: skip, never guess
            if snap is not None and 0 <= snap[9] // DAY_MS < start:  # seen before the epoch
                self.examples.append((snap, as_of, int(churned)))
                f = features(snap, as_of, self._params, self.config, fallback)
                calibration.append((self.blend.risk(f), int(churned)))

    def _fit_blend(self) -> None:
        if len(self.examples) < self.config.min_label_examples:
            return
        F = np.array([features(s, day, self._params, self.config) for s, day, _ in self.examples])
        y = np.fromiter((label for _, _, label in self.examples), dtype=float)
        churners = float(y.sum())
        need = self.config.min_label_churners
        if churners >= need and len(y) - churners >= need:
            self.blend.fit(F, y, self.config.l2)


DECILE = 0.1
"""However ``refresh_spacing_days`` spaces refreshes, a published risk never trails the
engine's by more than this (plus a day's rise)."""


def _first_reaching(
    curve: Callable[[int], list[float]],
    blend: Callable[[list[float]], float],
    lo: int,
    hi: int,
    target: float,
) -> int:
    """The first moment in ``(lo, hi]``, to a day, where the risk reaches ``target``; the
    risk at ``lo`` is below it and at ``hi`` at or above it (risk grows with silence)."""
    while hi - lo > DAY_MS:
        mid = lo + (hi - lo) // 2
        if blend(curve(mid // DAY_MS)) >= target:
            hi = mid
        else:
            lo = mid
    return hi
