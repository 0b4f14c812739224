"""Shape engine state into the published output records (plain dicts, see events.outputs).

Kept apart from the Processor so the output contract lives in one small place;
``tests/processor/test_publish.py`` validates these dicts against the pydantic models.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from insight_stream.models.profile import DAY_MS, KEPT_DEMOGRAPHICS
from insight_stream.models.segments.borderline import runner_up

if TYPE_CHECKING:
    from insight_stream.processor.processor import Processor
    from insight_stream.processor.state import UserState


def recommendations(
    proc: Processor,
    u: UserState,
    now: int,
    k: int,
    cats: list[tuple[str, float]] | None = None,
) -> list[dict[str, Any]]:
    """Top ``k`` as profile entries; ``cats``: the user's top categories, if already known."""
    if cats is None:
        cats = u.profile.top_categories(proc.config.profile.top_categories)
    recs = proc.recs.recommend(u.recs, now, k, u.segment, cats)
    return [
        {"item_id": item, "score": round(score, 6), "reason": reason, "because_of": because}
        for item, score, reason, because in recs
    ]


def build_profile(proc: Processor, user_id: str, u: UserState) -> dict[str, Any]:
    """The ``insight.profiles`` record of one user, scored at ``u.updated_at``."""
    p = u.profile
    now = u.updated_at
    cfg = proc.config
    risk, reasons = proc.churn.score(u.churn, now)
    p_alive = proc.churn.p_alive(u.churn, now)
    seg = None
    if u.segment is not None:
        portraits = proc.segments.portraits()
        portrait = portraits.get(u.segment)
        if portrait is not None:
            seg = dict(portrait)
            names = {j: str(q["name"]) for j, q in portraits.items()}
            seg["runner_up"] = runner_up(proc.segments, p, u.segment, names)
    recency = p.recency_days(now)
    cats = p.top_categories(cfg.profile.top_categories)
    return {
        "schema_version": 1,
        "user_id": user_id,
        "updated_at": now,
        "first_seen": p.first_seen,
        "last_seen": p.last_seen,
        "tenure_days": round((now - p.first_seen) / DAY_MS, 3),
        "rfm": {
            "recency_days": None if recency is None else round(recency, 3),
            "frequency": p.frequency,
            "monetary": round(p.net, 2),
        },
        "orders": p.orders,
        "avg_order_value": round(p.avg_order_value, 2),
        "returns": p.returns,
        "cancellations": p.cancellations,
        "sessions": p.sessions,
        "avg_session_events": round(p.session_events / p.sessions, 3) if p.sessions else 0.0,
        "funnel": p.funnel(),
        "top_categories": cats,
        "discount_sensitivity": round(p.discount_sensitivity(), 4),
        "demographics": {k: v for k, v in p.demographics or () if k in KEPT_DEMOGRAPHICS},
        "segment": seg,
        "segment_status": proc.segments.status,
        "recommendations": recommendations(proc, u, now, cfg.top_n, cats),
        "churn": {"risk": round(risk, 6), "p_alive": round(p_alive, 6), "reasons": reasons},
    }


def complete_alert(proc: Processor, alert: dict[str, Any], u: UserState) -> dict[str, Any]:
    """Add the suggested action: a coupon on the top category with recommended items."""
    top = u.profile.top_categories(1)
    category = top[0][0] if top else None
    items = [r["item_id"] for r in recommendations(proc, u, alert["ts"], proc.config.alert_items)]
    action = f"send a 10% coupon for {category}" if category else "send a win-back offer"
    if items:
        action += " featuring " + ", ".join(items)
    alert = dict(alert)
    alert.setdefault("schema_version", 1)
    alert["action"] = action
    alert["top_category"] = category
    alert["recommended_items"] = items
    alert["contributions"] = proc.churn.explain(u.churn, alert["ts"])[2]
    return alert
