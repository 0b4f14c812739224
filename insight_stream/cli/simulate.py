"""``insight-stream simulate``: write a deterministic simulated shop to JSON-lines files."""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

from insight_stream.cli.progress import Progress
from insight_stream.cli.shop_args import add_shop_arguments
from insight_stream.sim import WORLDS, Shop, SimConfig, world


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``simulate`` command."""
    defaults = SimConfig()
    p = subparsers.add_parser(
        "simulate",
        help="generate a simulated shop (clickstream, orders, ground truth)",
        description="Generate a deterministic simulated e-commerce shop: OUT/clickstream.jsonl "
        "and OUT/orders.jsonl (v1 events, event-time order) and OUT/truth.json (latent "
        "customer types, churn times, complementary items). Same seed, same bytes. "
        "Worlds: " + ", ".join(WORLDS) + ".",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--world",
        choices=list(WORLDS),
        default="default",
        help="world preset: number of types, complement timing, churn fade, catalogue "
        "(default: %(default)s)",
    )
    add_shop_arguments(p, defaults.users, defaults.days, defaults.malformed_rate, defaults.seed)
    p.add_argument(
        "--start",
        default=defaults.start,
        help=f"first day of the window, YYYY-MM-DD UTC (default {defaults.start})",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=Path("data/sim"),
        help="output directory, created if missing (default data/sim)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Generate the shop, report progress on stderr and a summary on stdout."""
    try:
        config: SimConfig = world(
            args.world,
            users=args.users,
            days=args.days,
            seed=args.seed,
            malformed_rate=args.malformed_rate,
            start=args.start,
        )
    except ValueError as exc:
        print(f"insight-stream simulate: error: {exc}", file=sys.stderr)
        return 2
    shop = Shop(config)
    try:
        with Progress(None, "simulate events") as bar:
            counts = shop.write(args.out, progress=bar.update)
    except OSError as exc:
        print(f"insight-stream simulate: error: cannot write to {args.out}: {exc}", file=sys.stderr)
        return 1
    truth = shop.truth
    types = Counter(u.type for u in truth.users.values())
    churned = len(truth.churned())
    print(f"wrote {args.out}/")
    for name, n in counts.items():
        unit = "users" if name.endswith(".json") else "records"
        print(f"  {name:20s} {n:>10,} {unit}")
    print("users per type:")
    for name in truth.types:
        print(f"  {name:24s} {types[name]:>7,}")
    print(f"churners: {churned:,} of {len(truth.users):,} ({churned / len(truth.users):.0%})")
    print(
        f"world {config.world}: {config.n_types} types, complements {config.complements}, "
        f"churn {config.churn}, catalogue {config.catalogue}"
    )
    print(f"malformed records: {truth.malformed:,}")
    return 0
