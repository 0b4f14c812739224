"""A sweep of the simulated evaluation over several worlds and seeds, as one table.

Each run is :func:`~insight_stream.evaluate.simulated.evaluate_simulated` on a
small shop (default 1,000 users, 120 days) so that the whole sweep fits in a few
minutes on one core; the summary averages every metric per world.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from statistics import mean
from typing import Any

from insight_stream.evaluate.simulated import evaluate_simulated
from insight_stream.sim import world

SWEEP_WORLDS: tuple[str, ...] = (
    "default",
    "three-types",
    "six-types",
    "later-complements",
    "gradual-churn",
    "fashion",
    "grocery",
)
SWEEP_SEEDS: tuple[int, ...] = (1, 2, 3)

COLUMNS: tuple[tuple[str, str, str], ...] = (
    # (header, section, key)
    ("types", "counts", "true_types"),
    ("k", "metrics", "segments_k"),
    ("ARI", "metrics", "segments_ari"),
    ("NMI", "metrics", "segments_nmi"),
    ("silh", "metrics", "segments_silhouette"),
    ("AUC", "metrics", "churn_roc_auc"),
    ("AUC_rec", "recency", "churn_roc_auc"),
    ("HR@10", "metrics", "recs_hr_at_10"),
    ("HR_pop", "popularity", "recs_hr_at_10"),
    ("comp", "metrics", "complement_recovery"),
    ("comp_SAR", "sar", "complement_recovery"),
)


def _row(report: dict[str, Any]) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for header, section, key in COLUMNS:
        if section in ("metrics", "counts"):
            source = report[section]
        else:
            source = report["baselines"].get(section, {})
        out[header] = source.get(key)
    return out


def run_sweep(
    worlds: Sequence[str] = SWEEP_WORLDS,
    seeds: Sequence[int] = SWEEP_SEEDS,
    users: int = 1000,
    days: int = 120,
    on_run: Callable[[int, int, str, int, float], None] | None = None,
) -> dict[str, Any]:
    """Evaluate every ``world x seed``; ``on_run(i, n, world, seed, seconds)`` after each.

    Returns ``{"runs": [{world, seed, seconds, row, report}], "summary": {world: row}}``.
    """
    runs: list[dict[str, Any]] = []
    total = len(worlds) * len(seeds)
    for name in worlds:
        for seed in seeds:
            t0 = time.perf_counter()
            report = evaluate_simulated(world(name, users=users, days=days, seed=seed))
            seconds = time.perf_counter() - t0
            runs.append(
                {
                    "world": name,
                    "seed": seed,
                    "seconds": round(seconds, 2),
                    "row": _row(report),
                    "report": report,
                }
            )
            if on_run is not None:
                on_run(len(runs), total, name, seed, seconds)
    summary: dict[str, dict[str, float | None]] = {}
    for name in worlds:
        rows = [r["row"] for r in runs if r["world"] == name]
        summary[name] = {
            h: (mean(v) if (v := [r[h] for r in rows if r[h] is not None]) else None)
            for h, _, _ in COLUMNS
        }
    return {"users": users, "days": days, "seeds": list(seeds), "runs": runs, "summary": summary}


def format_sweep(result: dict[str, Any]) -> str:
    """One text table: a line per run, then the mean per world.

    >>> row = {h: 0.5 for h, _, _ in COLUMNS} | {"comp": None}
    >>> text = format_sweep({"runs": [{"world": "w", "seed": 1, "row": row}],
    ...                      "summary": {"w": row}, "users": 10, "days": 5})
    >>> text.splitlines()[1].split()[:4]
    ['world', 'seed', 'types', 'k']
    """
    headers = [h for h, _, _ in COLUMNS]
    head = f"{'world':<18} {'seed':>4} " + " ".join(f"{h:>8}" for h in headers)

    def cells(row: dict[str, float | None]) -> str:
        out = []
        for h in headers:
            v = row.get(h)
            if v is None:
                out.append(f"{'-':>8}")
            elif h in ("types", "k"):
                out.append(f"{v:>8.1f}" if v != int(v) else f"{int(v):>8d}")
            else:
                out.append(f"{v:>8.3f}")
        return " ".join(out)

    lines = [f"sweep: {result['users']} users, {result['days']} days per run", head]
    for run in result["runs"]:
        lines.append(f"{run['world']:<18} {run['seed']:>4} {cells(run['row'])}")
    lines.append("mean per world")
    for name, row in result["summary"].items():
        lines.append(f"{name:<18} {'all':>4} {cells(row)}")
    return "\n".join(lines)
