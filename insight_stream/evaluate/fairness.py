"""Fairness report of an evaluation run: the live per-group table plus alert precision.

Groups come from the demographics the engine saw (its profiles), as in production; the
simulator's truth only adds what production cannot know: whether an alerted customer had
really churned by the alert (precision per group).
"""

from __future__ import annotations

from typing import Any

from insight_stream.processor import Processor
from insight_stream.processor.fairness import (
    ATTRIBUTES,
    MIN_USERS,
    RATE_METRICS,
    disparity,
    group_table,
    user_facts,
)
from insight_stream.sim.truth import GroundTruth

DISPARITY_THRESHOLD = 2.0
"""Default max/min ratio above which a metric is flagged (also the Prometheus rule's)."""


def fairness_report(
    proc: Processor,
    alerted: dict[str, int],
    truth: GroundTruth,
    threshold: float = DISPARITY_THRESHOLD,
) -> dict[str, Any]:
    """``{"groups", "disparity", "threshold", "flagged", "min_users"}`` for one run.

    ``alerted``: user -> time of their first alert.
    """
    rows = []
    precision: dict[str, dict[str, list[int]]] = {a: {} for a in ATTRIBUTES}
    for uid in sorted(proc.users):
        u = proc.users[uid]
        demo = dict(u.profile.demographics or ())
        facts = user_facts(u)
        rows.append((demo, uid in alerted, *facts[1:]))
        ts = alerted.get(uid)
        t = truth.users.get(uid)
        if ts is None or t is None:
            continue
        correct = t.churn_ts is not None and t.churn_ts <= ts
        for attr in ATTRIBUTES:
            if attr in demo:
                c = precision[attr].setdefault(demo[attr], [0, 0])
                c[0] += 1
                c[1] += correct
    table = group_table(rows)
    for attr, groups in table.items():
        for group, row in groups.items():
            n, correct = precision[attr].get(group, (0, 0))
            row["alert_precision"] = correct / n if n else None
            row["alerted"] = n
    ratios = disparity(table)
    flagged = [
        f"{attr}.{metric}"
        for attr, by_metric in ratios.items()
        for metric, r in by_metric.items()
        if r is not None and r > threshold
    ]
    return {
        "groups": table,
        "disparity": ratios,
        "threshold": threshold,
        "min_users": MIN_USERS,
        "flagged": flagged,
    }


def format_fairness(report: dict[str, Any]) -> str:
    """A readable table: one line per group, then the disparity ratios per attribute."""
    lines = [
        f"fairness (groups of >= {report['min_users']} users enter the ratios; "
        f"flag above {report['threshold']:g})",
        f"{'attribute':<10} {'group':<10} {'users':>6} {'alert%':>7} {'prec':>6} "
        f"{'recs%':>6}  segment shares",
    ]
    for attr, groups in report["groups"].items():
        for group, row in groups.items():
            prec = row.get("alert_precision")
            shares = " ".join(f"{s}:{v:.2f}" for s, v in row["segment_shares"].items())
            lines.append(
                f"{attr:<10} {group[:10]:<10} {row['users']:>6} {100 * row['alert_rate']:>6.1f}% "
                f"{'-' if prec is None else f'{prec:.2f}':>6} {100 * row['rec_coverage']:>5.1f}%"
                f"  {shares}"
            )
    for attr, ratios in report["disparity"].items():
        shown = "  ".join(
            f"{m}={'-' if r is None else f'{r:.2f}'}"
            for m, r in ratios.items()
            if m in (*RATE_METRICS, "segment_share")
        )
        lines.append(f"disparity {attr:<10} {shown}")
    lines.append(f"flagged: {', '.join(report['flagged']) or 'none'}")
    return "\n".join(lines)
