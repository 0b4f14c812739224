"""``insight-stream demo``: the whole pipeline on an embedded broker in under a minute."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from typing import Any

from insight_stream.cli.engine_args import add_engine_config_argument, engine_config_from_args
from insight_stream.cli.progress import Progress
from insight_stream.cli.shop_args import add_shop_arguments
from insight_stream.cli.summary import print_summary


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "demo",
        help="end-to-end demo: embedded broker, simulated shop, engine, outputs",
        description="Start an embedded Kafka-protocol broker (Tansu, memory storage), create the "
        "topics, produce a simulated shop, run the engine on it as a consumer group with live "
        "progress, then show what landed on each output topic and a summary against the "
        "simulator's ground truth. Everything is stopped and removed at the end.",
    )
    add_shop_arguments(p, users=2000, days=120, malformed=0.01)
    add_engine_config_argument(p)
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    import logging

    import orjson

    from insight_stream.runtime.app import prepare_topics, run
    from insight_stream.runtime.broker import EmbeddedBroker, free_port
    from insight_stream.runtime.config import load_config
    from insight_stream.runtime.feeder import closing_producer, fast_producer, feed
    from insight_stream.runtime.logs import configure_logging
    from insight_stream.runtime.reader import latest_by_key, read_published, read_topic
    from insight_stream.sim import Shop, SimConfig

    engine = engine_config_from_args(args)
    configure_logging("text", "WARNING")
    logging.getLogger("kafka").setLevel(logging.CRITICAL)  # reconnect chatter is not the demo
    shop = Shop(
        SimConfig(
            users=args.users, days=args.days, seed=args.seed, malformed_rate=args.malformed_rate
        )
    )
    with EmbeddedBroker() as broker, tempfile.TemporaryDirectory(prefix="insight-demo-") as state:
        port = free_port()
        cfg = load_config(
            {},
            {
                "bootstrap_servers": broker.bootstrap,
                "state_dir": state,
                "metrics_port": port,
                "metrics_host": "127.0.0.1",
                "session_timeout_ms": 3000,
                "heartbeat_interval_ms": 500,
            },
        )
        print(f"broker      Tansu on {broker.bootstrap} (memory storage)")
        parts = prepare_topics(cfg)
        print("topics      " + ", ".join(f"{t} ({n})" for t, n in sorted(parts.items())))
        producer = fast_producer(broker.bootstrap)
        with closing_producer(producer), Progress(None, "produce") as bar:
            fed = feed(
                producer,
                shop.events(),
                cfg.topic_by_kind,
                on_progress=bar.update,
                chunk=5000,
            )
        print(f"metrics     http://127.0.0.1:{port}/metrics  (/healthz, /readyz) while it runs")
        ends = fed.end_offsets

        def done(r: Any) -> bool:
            positions = r.tasks.positions()
            return all(positions.get(k, 0) >= v for k, v in ends.items()) and r.settled

        with Progress(fed.total, "process") as bar:
            code = run(cfg, on_batch=bar.update, until=done, engine=engine)
        if code != 0:
            print(f"engine stopped with exit code {code}", file=sys.stderr)
            return code
        out = {t: read_topic(broker.bootstrap, t) for t in cfg.output_topics}
        print("\noutput topics:")
        for topic, recs in out.items():
            print(f"  {topic:<22} {len(recs):>8,} records")
        profiles = {k: v for k, v in latest_by_key(out[cfg.profiles_topic]).items() if v}
        alerts = [orjson.loads(r.value) for r in out[cfg.alerts_topic]]
        if profiles:
            uid = max(profiles, key=lambda u: (profiles[u]["orders"], u))
            print(f"\nsample profile ({cfg.profiles_topic}, key {uid}):")
            print(_short(profiles[uid]))
        if alerts:
            print(f"\nsample alert ({cfg.alerts_topic}):")
            print(_short(alerts[0]))
        if out[cfg.dlq_topic]:
            rec = out[cfg.dlq_topic][0]
            print(f"\nsample dead letter ({cfg.dlq_topic}): {rec.value[:60]!r}")
            print("  headers: " + ", ".join(f"{k}={v.decode()[:50]}" for k, v in rec.headers))
        print()
        print_summary(profiles, alerts, truth=shop.truth)
        print()
        _compare_with_replay(
            shop, read_published(broker.bootstrap, cfg.output_topics), cfg.engine_config(engine)
        )
    return 0


def _compare_with_replay(shop: Any, kafka: Any, engine: Any) -> None:
    """Replay the same shop from files and say whether Kafka published the same."""
    from pathlib import Path

    from insight_stream.replay.compare import differences, replay_dir

    with (
        tempfile.TemporaryDirectory(prefix="insight-demo-replay-") as tmp,
        Progress(None, "replay") as bar,
    ):
        shop.write(Path(tmp), progress=bar.update)
        want = replay_dir(Path(tmp), config=engine)
    diff = differences(kafka, want)
    same = sum(1 for u, p in want.profiles.items() if kafka.profiles.get(u) == p)
    verdict = "identical" if not diff else "DIFFERENT"
    print(
        f"run == replay: alerts {len(kafka.alerts):,} on Kafka, {len(want.alerts):,} in replay; "
        f"final profiles equal for {same:,} of {len(want.profiles):,} users: {verdict}"
    )
    if diff:
        print(f"  differences: {diff}", file=sys.stderr)


def _short(doc: dict[str, Any]) -> str:
    text = json.dumps(doc, indent=2, default=str)
    lines = text.splitlines()
    return "\n".join(lines[:40] + (["  ..."] if len(lines) > 40 else []))
