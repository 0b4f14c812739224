"""``insight-stream produce``: a simulated shop into the input topics, at a rate or flat out."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from insight_stream.cli.progress import Progress
from insight_stream.cli.shop_args import add_shop_arguments
from insight_stream.runtime.config import ConfigError, load_config


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "produce",
        help="produce a simulated shop into the Kafka input topics",
        description="Produce a deterministic simulated shop (same generator as `simulate`) into "
        "the clickstream and orders topics, keyed by user_id, in event-time order. Broker, topic "
        "names and security come from the same INSIGHT_* settings as `run` (flags below win).",
    )
    add_shop_arguments(p, users=1000, days=30, malformed=0.0)
    p.add_argument(
        "--rate",
        type=float,
        default=None,
        help="target events per second (default: as fast as possible)",
    )
    p.add_argument("--bootstrap-servers", default=None, help="[env INSIGHT_BOOTSTRAP_SERVERS]")
    p.add_argument("--clickstream-topic", default=None, help="[env INSIGHT_CLICKSTREAM_TOPIC]")
    p.add_argument("--orders-topic", default=None, help="[env INSIGHT_ORDERS_TOPIC]")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from kafka.errors import KafkaError

    from insight_stream.runtime.feeder import closing_producer, fast_producer, feed
    from insight_stream.sim import Shop, SimConfig

    overrides = {
        k: getattr(args, k)
        for k in ("bootstrap_servers", "clickstream_topic", "orders_topic")
        if getattr(args, k) is not None
    }
    try:
        cfg = load_config(overrides=overrides)
        shop = Shop(
            SimConfig(
                users=args.users, days=args.days, seed=args.seed, malformed_rate=args.malformed_rate
            )
        )
    except (ConfigError, ValueError) as exc:
        print(f"insight-stream produce: {exc}", file=sys.stderr)
        return 2
    if args.rate is not None and args.rate <= 0:
        print("insight-stream produce: --rate must be > 0", file=sys.stderr)
        return 2
    common = cfg.kafka_common()
    try:
        producer = fast_producer(common.pop("bootstrap_servers"), **common)
    except KafkaError as exc:
        print(
            f"insight-stream produce: cannot connect to {cfg.bootstrap_servers}: {exc}",
            file=sys.stderr,
        )
        return 1
    with closing_producer(producer), Progress(None, "produce events") as bar:
        result = feed(
            producer,
            shop.events(),
            cfg.topic_by_kind,
            rate=args.rate,
            on_progress=bar.update,
            chunk=2000,
        )
    for topic, n in sorted(result.records.items()):
        print(f"{topic}: {n:,} records")
    print(
        f"{result.total:,} events in {result.seconds:.1f}s "
        f"({result.total / max(result.seconds, 1e-9):,.0f}/s)"
    )
    return 0
