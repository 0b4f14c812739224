"""The human end-of-run summary shared by ``replay`` and ``demo``."""

from __future__ import annotations

import sys
from collections import Counter
from typing import Any, TextIO

from insight_stream.evaluate.clustering import adjusted_rand_index, normalized_mutual_info


def print_summary(
    profiles: dict[str, dict[str, Any]],
    alerts: list[dict[str, Any]],
    truth: Any = None,
    out: TextIO | None = None,
    sample_users: int = 3,
) -> None:
    """Segments with portraits and actions, sample recommendations, alerts, quality vs truth."""
    w = out or sys.stdout
    line = "-" * 78
    print(line, file=w)
    print(f"profiles: {len(profiles):,} users   churn alerts: {len(alerts):,}", file=w)
    seg_users = Counter(p["segment"]["id"] for p in profiles.values() if p.get("segment"))
    portraits = {p["segment"]["id"]: p["segment"] for p in profiles.values() if p.get("segment")}
    if portraits:
        print("\nsegments:", file=w)
        for sid in sorted(portraits):
            s = portraits[sid]
            print(f"  [{sid}] {s['name']}  ({seg_users[sid]:,} users)", file=w)
            print(f"      {s['description']}", file=w)
            print(f"      action: {s['action']}", file=w)
    else:
        print("\nsegments: not seeded yet (too few users with history)", file=w)
    shown = 0
    ranked = sorted(profiles.values(), key=lambda p: (-p["orders"], p["user_id"]))
    if ranked:
        print("\nsample recommendations:", file=w)
    for p in ranked:
        if not p["recommendations"] or shown >= sample_users:
            continue
        shown += 1
        seg = p["segment"]["name"] if p.get("segment") else "-"
        print(
            f"  {p['user_id']} ({seg}, {p['orders']} orders, churn risk {p['churn']['risk']:.2f}):",
            file=w,
        )
        for r in p["recommendations"][:3]:
            print(f"      {r['item_id']:<10} {r['reason']}", file=w)
    if alerts:
        print("\nchurn alerts (first 3):", file=w)
        for a in alerts[:3]:
            print(
                f"  {a['user_id']} risk {a['risk']:.2f} value ${a['value']:.0f}: "
                f"{'; '.join(a['reasons'][:2])}",
                file=w,
            )
            print(f"      -> {a['action']}", file=w)
    if truth is not None:
        _print_truth(profiles, alerts, truth, w)
    print(line, file=w)


def _print_truth(
    profiles: dict[str, dict[str, Any]], alerts: list[dict[str, Any]], truth: Any, w: TextIO
) -> None:
    pairs = [
        (truth.users[u].type, p["segment"]["id"])
        for u, p in profiles.items()
        if p.get("segment") and u in truth.users and p["sessions"] >= 3
    ]
    print("\nquality vs ground truth:", file=w)
    if pairs:
        t, f = zip(*pairs, strict=True)
        print(
            f"  segments vs latent types ({len(pairs):,} users with >= 3 sessions): "
            f"ARI {adjusted_rand_index(t, f):.3f}  NMI {normalized_mutual_info(t, f):.3f}",
            file=w,
        )
    alerted = {a["user_id"] for a in alerts}
    churners = {u for u, ut in truth.users.items() if ut.churn_ts is not None}
    if alerted:
        precision = len(alerted & churners) / len(alerted)
        print(
            f"  alerts: {len(alerted):,} users alerted, {100 * precision:.0f}% of them "
            f"truly churned",
            file=w,
        )
