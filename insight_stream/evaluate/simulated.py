"""Prequential evaluation on a simulated shop against its ground truth.

The engine sees the events exactly as live (raw bytes -> decode -> process).
Recommendations are scored as **next-basket prediction** (score, then learn):
at the first event of each session, before the engine sees it, the user's top
10 is taken (``Processor.recommend``); when that session ends in an
``order_placed``, the snapshot is scored against the order's items. Scoring at
the order itself would leak: every ordered item was viewed and carted earlier
in the same session, so the engine's recent items would already hold the
basket. Only users with at least one earlier order count. The popularity
baseline (global best sellers so far) is snapshotted at the same moments and
scored on the same orders.

* segments: ARI / NMI of the final segment vs latent type, over established customers
  (>= ``segment_min_sessions`` sessions: fewer visits do not reveal a type);
* recommendations: HR@10 and NDCG@10 vs a global-popularity top 10;
* churn: ROC-AUC of the risk at the end of the window for "churned" (truth),
  with a recency-only baseline (days since last event);
* alerts: precision (alerted users who had truly churned by the alert) and
  recall (valuable churners, silent for >= ``recall_min_silence_days`` at the end, that got one);
* complements (worlds with later-order complements): share of users who bought one
  item of a planted pair and not yet the other whose final top 10 holds the missing
  one, for the engine and for a user-level item-item Jaccard (SAR) baseline;
* segment quality: the chosen k, silhouette and Davies-Bouldin (``Segmenter.quality``);
* fairness: per age band and region (the stored bands), alert rate and precision, recommendation
  coverage and segment shares, with max/min disparity ratios (:mod:`.fairness`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import orjson

from insight_stream.evaluate.auc import roc_auc
from insight_stream.evaluate.clustering import adjusted_rand_index, normalized_mutual_info
from insight_stream.evaluate.fairness import fairness_report
from insight_stream.evaluate.ranking import hit_rate, ndcg
from insight_stream.evaluate.sar import UserJaccard, complement_recovery
from insight_stream.events import ClickEvent, DlqRecord, OrderEvent, decode
from insight_stream.processor import EngineConfig, Processor
from insight_stream.processor.driver import Driver
from insight_stream.processor.router import Record
from insight_stream.sim import Shop, SimConfig

DAY_MS = 86_400_000


class _TopK:
    """Popularity top-k, refreshed every ``every`` updates (cheap, and still 'so far')."""

    def __init__(self, k: int, every: int = 50) -> None:
        self.k, self.every = k, every
        self.counts: Counter[str] = Counter()
        self._top: list[str] = []
        self._since = every

    def add(self, items: list[str]) -> None:
        self.counts.update(items)
        self._since += 1

    def top(self) -> list[str]:
        if self._since >= self.every:
            ranked = sorted(self.counts.items(), key=lambda t: (-t[1], t[0]))
            self._top = [i for i, _ in ranked[: self.k]]
            self._since = 0
        return self._top


def _hit_ndcg(ranked: list[str], relevant: set[str], k: int = 10) -> tuple[float, float]:
    return hit_rate(ranked, relevant, k), ndcg(ranked, relevant, k)


def evaluate_simulated(
    sim: SimConfig | None = None,
    engine: EngineConfig | None = None,
    flush_every: int = 10_000,
    recall_min_silence_days: float = 30.0,
    segment_min_sessions: int = 5,
    on_progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Run the whole shop through a fresh Processor and score it. Returns the report dict."""
    sim = sim or SimConfig()
    shop = Shop(sim)
    proc = Processor(engine)
    alerts: list[dict[str, Any]] = []

    def keep_alerts(rec: Record) -> None:
        if rec[0] == "alerts":
            alerts.append(orjson.loads(rec[2] or b"{}"))

    driver = Driver(proc, keep_alerts, flush_every)
    popularity = _TopK(10)
    sums = Counter()
    n_orders = dlq = done = 0
    # user -> (session id, (engine top 10, popularity top 10) or None if not scored)
    snapshots: dict[str, tuple[str, tuple[list[str], list[str]] | None]] = {}
    purchases: dict[str, set[str]] = {}
    for topic, raw in shop.events():
        ev = decode(raw, topic)
        if isinstance(ev, DlqRecord):
            dlq += 1
            continue
        uid = ev.user_id
        if isinstance(ev, ClickEvent) and ev.session_id is not None:
            snap = snapshots.get(uid)
            if snap is None or snap[0] != ev.session_id:
                u = proc.users.get(uid)
                scored = u is not None and u.profile.orders > 0
                tops = (proc.recommend(uid, 10), list(popularity.top())) if scored else None
                snapshots[uid] = (ev.session_id, tops)
        elif isinstance(ev, OrderEvent) and ev.type == "order_placed":
            snap = snapshots.get(uid)
            bought = {line.item_id for line in ev.lines}
            if snap is not None and snap[1] is not None:
                n_orders += 1
                h, n = _hit_ndcg(snap[1][0], bought)
                sums["hr"] += h
                sums["ndcg"] += n
                h, n = _hit_ndcg(snap[1][1], bought)
                sums["pop_hr"] += h
                sums["pop_ndcg"] += n
                snapshots[uid] = (snap[0], None)  # a snapshot scores one order at most
            popularity.add([line.item_id for line in ev.lines])
            purchases.setdefault(uid, set()).update(bought)
        driver.process(ev)
        done += 1
        if on_progress and done == 10_000:
            on_progress(done)
            done = 0
    truth = shop.truth
    end = truth.end_ms
    proc.advance_time(end)  # the end of the window: silent customers' timers fire
    driver.emit_sealed()
    driver.drain(seal=False)
    if on_progress and done:
        on_progress(done)

    seg_pairs = [
        (truth.users[uid].type, u.segment)
        for uid, u in sorted(proc.users.items())
        if u.profile.sessions >= segment_min_sessions
        and u.segment is not None
        and uid in truth.users
    ]
    t_types = [a for a, _ in seg_pairs]
    f_segs = [b for _, b in seg_pairs]

    users = sorted(u for u in proc.users if u in truth.users)
    churned = truth.churned()
    labels = [uid in churned for uid in users]
    risks = [proc.churn_risk(uid, end) for uid in users]
    recency = [end - proc.users[uid].profile.last_seen for uid in users]

    alerted: dict[str, int] = {}
    for a in alerts:
        alerted.setdefault(a["user_id"], a["ts"])
    correct = sum(
        1
        for uid, ts in alerted.items()
        if truth.users[uid].churn_ts is not None and truth.users[uid].churn_ts <= ts
    )
    min_value = proc.config.churn.min_value
    eligible = [
        uid
        for uid in users
        if uid in churned
        and proc.users[uid].profile.net >= min_value
        and end - truth.users[uid].churn_ts >= recall_min_silence_days * DAY_MS
    ]
    n = max(n_orders, 1)
    comp_engine = comp_sar = None
    comp_users = 0
    if truth.later_complements():
        sar = UserJaccard(purchases)
        engine_top = {uid: proc.recommend(uid, 10) for uid in purchases}
        sar_top = {uid: sar.recommend(items, 10) for uid, items in purchases.items()}
        comp_engine, comp_users = complement_recovery(purchases, truth.complements, engine_top)
        comp_sar, _ = complement_recovery(purchases, truth.complements, sar_top)
    quality = dict(proc.segments.quality)
    metrics: dict[str, Any] = {
        "segments_ari": adjusted_rand_index(t_types, f_segs) if seg_pairs else 0.0,
        "segments_nmi": normalized_mutual_info(t_types, f_segs) if seg_pairs else 0.0,
        "segments_k": quality.get("k") or 0,
        "segments_silhouette": quality.get("silhouette", 0.0),
        "segments_davies_bouldin": quality.get("davies_bouldin", 0.0),
    }
    baselines: dict[str, dict[str, float]] = {}
    if comp_engine is not None:
        metrics["complement_recovery"] = comp_engine
        baselines["sar"] = {"complement_recovery": comp_sar or 0.0}
    world = f"{sim.world}, " if sim.world != "default" else ""
    return {
        "dataset": f"sim({world}users={sim.users}, days={sim.days}, seed={sim.seed})",
        "world": sim.world,
        "segments_quality": quality,
        "metrics": {
            **metrics,
            "recs_hr_at_10": sums["hr"] / n,
            "recs_ndcg_at_10": sums["ndcg"] / n,
            "churn_roc_auc": roc_auc(labels, risks),
            "alerts_precision": correct / len(alerted) if alerted else 0.0,
            "alerts_recall": (sum(1 for u in eligible if u in alerted) / len(eligible))
            if eligible
            else 0.0,
        },
        "baselines": {
            "popularity": {
                "recs_hr_at_10": sums["pop_hr"] / n,
                "recs_ndcg_at_10": sums["pop_ndcg"] / n,
            },
            "recency": {"churn_roc_auc": roc_auc(labels, recency)},
            **baselines,
        },
        "counts": {
            "events": proc.events,
            "dlq": dlq,
            "users": len(users),
            "segmented_users": len(seg_pairs),
            "scored_orders": n_orders,
            "alerts": len(alerts),
            "alerted_users": len(alerted),
            "churned_users": len(churned),
            "true_types": len(truth.types),
            "complement_users": comp_users,
        },
        "fairness": fairness_report(proc, alerted, truth),
        "drift": _drift(proc, truth.start_ms),
    }


def _drift(proc: Processor, start_ms: int) -> dict[str, Any]:
    """Detections per detector and when (event-time day of the window) each happened."""
    summary = proc.drift.summary()
    for event in summary["events"]:
        event["day"] = round((event["ts"] - start_ms) / DAY_MS, 2)
    return summary
