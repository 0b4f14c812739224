"""Churn on CDNOW: the classic BG/NBD set-up of Fader, Hardie & Lee (2005).

The engine sees the calibration purchases only (weeks 1-39 by default, to
1997-09-30), as a stream of ``OrderEvent``s. At the end of calibration it fits
BG/NBD from its own per-user state and scores every customer; the label is "no
purchase in the holdout" (to 1998-06-30). Baselines are computed here, from the
raw rows, on the same customers and with the engine's fitted params:

* ``bgnbd_expected_purchases``: fewer expected holdout purchases = more churn;
* ``bgnbd_p_alive``: 1 - P(alive) (one-time buyers count as alive, hence weak);
* ``recency``: one-time buyers first, then longest since the last purchase.

With a :class:`Processor` (the default) the stream goes through a :class:`Driver`, as
live, and ``published_churn_roc_auc`` scores the risk each customer last got on the
profile topic at or before the cut (timer-fired profiles included) next to the risk
scored in-process at the cut (``churn_roc_auc``): a consumer only sees the former.

Nothing learned may look at the holdout: the engine's blend only learns from
labels that mature inside the calibration stream.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any, Protocol

import orjson

from insight_stream.evaluate.auc import roc_auc
from insight_stream.evaluate.datasets import cdnow
from insight_stream.events import Event
from insight_stream.models.churn import (
    CDNOW_PARAMS,
    DAY_MS,
    ChurnConfig,
    ChurnModel,
    ChurnUser,
    bgnbd,
)
from insight_stream.processor import Processor
from insight_stream.processor.driver import Driver
from insight_stream.processor.router import Record

PAPER_PARAMS: dict[str, float] = dict(zip(("r", "alpha", "a", "b"), CDNOW_PARAMS, strict=True))


class Engine(Protocol):
    """What the harness needs; the Processor provides it too."""

    churn: ChurnModel

    def process(self, event: Event) -> None: ...
    def advance_time(self, now_ms: int) -> None: ...
    def churn_risk(self, user_id: str) -> float: ...
    def churn_users(self) -> Iterable[ChurnUser]: ...


class ChurnEngine:
    """Minimal engine: one :class:`ChurnModel` and a ``ChurnUser`` per user id.

    >>> from insight_stream.evaluate.datasets.cdnow import Purchase, to_events
    >>> e = ChurnEngine()
    >>> for ev in to_events([Purchase("7", date(1997, 1, 1), 1, 9.0)]):
    ...     e.process(ev)
    >>> 0.0 < e.churn_risk("7") < 1.0
    True
    """

    def __init__(self, config: ChurnConfig | None = None) -> None:
        self.churn = ChurnModel(config)
        self.users: dict[str, ChurnUser] = {}
        self.now_ms = 0

    def process(self, event: Event) -> None:
        u = self.users.get(event.user_id)
        if u is None:
            u = self.users[event.user_id] = self.churn.new_user()
        self.churn.on_event(u, event)
        self.advance_time(event.ts)

    def advance_time(self, now_ms: int) -> None:
        if now_ms > self.now_ms:
            self.now_ms = now_ms
            self.churn.maybe_refit(self.churn_users, now_ms)

    def churn_users(self) -> Iterable[ChurnUser]:
        return self.users.values()

    def churn_risk(self, user_id: str) -> float:
        return self.churn.risk(self.users[user_id], self.now_ms)


def evaluate_cdnow(
    which: cdnow.Which = "sample",
    calibration_end: date = date(1997, 9, 30),
    holdout_end: date = date(1998, 6, 30),
    engine: Engine | None = None,
) -> dict[str, Any]:
    """Run the calibration stream through ``engine``; score the holdout; compare baselines.

    Split dates are inclusive last days. Returns the report dict (see module doc).
    """
    engine = engine if engine is not None else Processor()
    rows = cdnow.read(which)
    cut_ms = cdnow.day_ms(calibration_end + timedelta(days=1))
    end_ms = cdnow.day_ms(holdout_end + timedelta(days=1))
    published: dict[str, float] = {}  # user -> risk on their last published profile
    driver = None
    if isinstance(engine, Processor):

        def keep_profiles(rec: Record) -> None:
            if rec[0] == "profiles" and rec[2] is not None:
                profile = orjson.loads(rec[2])
                published[profile["user_id"]] = profile["churn"]["risk"]

        driver = Driver(engine, keep_profiles)
    feed = driver.process if driver is not None else engine.process
    for event in cdnow.to_events(rows, which):
        if event.ts >= cut_ms:
            break
        feed(event)
    now_ms = cut_ms - 1  # the last instant of the calibration period
    engine.advance_time(now_ms)
    if driver is not None:
        driver.emit_sealed()
        driver.drain(seal=False)
    params = engine.churn.fit(engine.churn_users(), now_ms)

    # per-customer calibration stats and holdout labels, straight from the rows
    cut_day, end_day = cut_ms // DAY_MS, end_ms // DAY_MS
    days: dict[str, set[int]] = {}
    bought_later: set[str] = set()
    for row in rows:
        d = cdnow.day_ms(row.day) // DAY_MS
        if d < cut_day:
            days.setdefault(row.customer, set()).add(d)
        elif d < end_day:
            bought_later.add(row.customer)
    customers = sorted(days, key=int)
    unit = engine.churn.config.time_unit_days
    theta = (params["r"], params["alpha"], params["a"], params["b"])
    holdout = (end_day - cut_day) / unit
    labels, engine_scores, expected, alive, recency = [], [], [], [], []
    for c in customers:
        ds = sorted(days[c])
        x, t_x, age = len(ds) - 1, (ds[-1] - ds[0]) / unit, (cut_day - 1 - ds[0]) / unit
        labels.append(c not in bought_later)
        engine_scores.append(engine.churn_risk(c))
        expected.append(-bgnbd.expected_purchases(theta, holdout, x, t_x, age))
        alive.append(1.0 - bgnbd.p_alive(theta, x, t_x, age))
        recency.append((1.0 if x == 0 else 0.0) * 1e6 + (cut_day - 1 - ds[-1]))
    return {
        "dataset": f"cdnow-{which}",
        "calibration_end": calibration_end.isoformat(),
        "holdout_end": holdout_end.isoformat(),
        "metrics": {
            "churn_roc_auc": roc_auc(labels, engine_scores),
            **(
                {"published_churn_roc_auc": roc_auc(labels, [published[c] for c in customers])}
                if driver is not None
                else {}
            ),
        },
        "baselines": {
            "bgnbd_expected_purchases": {"churn_roc_auc": roc_auc(labels, expected)},
            "bgnbd_p_alive": {"churn_roc_auc": roc_auc(labels, alive)},
            "recency": {"churn_roc_auc": roc_auc(labels, recency)},
        },
        "params": params,
        "paper_params": PAPER_PARAMS,
        "n_customers": len(customers),
        "churn_rate": sum(labels) / len(labels),
        "blend_learned": engine.churn.blend.learned,
        "label_examples": len(engine.churn.examples),
    }
