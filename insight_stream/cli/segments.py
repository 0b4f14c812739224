"""``insight-stream segments tune``: silhouette and inertia over a range of k."""

from __future__ import annotations

import argparse

import numpy as np

from insight_stream.cli.progress import Progress
from insight_stream.cli.usage import UsageError
from insight_stream.models.segments.features import raw_features, transform
from insight_stream.models.segments.tuning import tune_k
from insight_stream.processor import Processor
from insight_stream.processor.driver import Driver, feed_raw


def _sample_features(args: argparse.Namespace) -> np.ndarray:
    proc = Processor()
    with Progress(None, "replaying sample") as bar:
        driver = Driver(proc, lambda rec: None, proc.config.flush_events)
        if args.inputs:
            from insight_stream.cli.replay import input_files
            from insight_stream.replay import replay_files

            files, _ = input_files(args.inputs)
            replay_files(driver, files, on_progress=bar.update)
        else:
            from insight_stream.sim import Shop, SimConfig

            shop = Shop(SimConfig(users=args.users, days=args.days, seed=args.seed))
            feed_raw(driver, shop.events(), on_progress=bar.update)
    rows = [
        transform(raw_features(u.profile))
        for _, u in sorted(proc.users.items())
        if u.profile.sessions >= proc.config.segments.min_sessions
    ]
    return np.array(rows, dtype=float)


def run(args: argparse.Namespace) -> int:
    if args.action != "tune":
        raise UsageError(f"unknown action {args.action!r}")
    if args.k_min < 2 or args.k_max < args.k_min:
        raise UsageError(f"need 2 <= --k-min <= --k-max, got {args.k_min} and {args.k_max}")
    x = _sample_features(args)
    if len(x) < args.k_max:
        raise SystemExit(f"segments tune: only {len(x)} users with enough history; need more data")
    print(f"{len(x):,} users with >= 3 sessions")
    print(f"{'k':>3} {'inertia':>12} {'silhouette':>11}")
    rows = tune_k(x, range(args.k_min, args.k_max + 1), seed=args.seed)
    for r in rows:
        print(f"{r['k']:>3} {r['inertia']:>12.1f} {r['silhouette']:>11.3f}")
    best = max(rows, key=lambda r: r["silhouette"])
    print(f"highest silhouette at k={best['k']} (check the elbow in inertia too)")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "segments",
        help="segment tools: `segments tune` scores a range of k",
        description="`segments tune` replays a sample (JSONL inputs, or a simulated shop) and "
        "prints inertia (for the elbow) and silhouette for each k on the standardised "
        "segment features of users with enough history.",
    )
    p.add_argument("action", choices=["tune"], help="what to do")
    p.add_argument(
        "inputs", nargs="*", help="JSONL files or simulate output dirs (default: simulate)"
    )
    p.add_argument("--k-min", type=int, default=2)
    p.add_argument("--k-max", type=int, default=10)
    p.add_argument("--users", type=int, default=2000, help="simulated users if no inputs")
    p.add_argument("--days", type=int, default=90, help="simulated days if no inputs")
    p.add_argument("--seed", type=int, default=7)
    p.set_defaults(func=run)
