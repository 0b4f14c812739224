"""``insight-stream bench``: engine-only (default) or end-to-end through Kafka (``--kafka``)."""

from __future__ import annotations

import argparse

from insight_stream.cli.progress import Progress
from insight_stream.cli.report import write_json_report
from insight_stream.cli.usage import UsageError


def run(args: argparse.Namespace) -> int:
    if args.kafka and args.restore:
        raise UsageError("bench: choose one of --kafka and --restore")
    if args.restore:
        from insight_stream.bench.restore import bench_restore

        report = bench_restore(
            users=args.users, days=args.days, seed=args.seed, bootstrap=args.bootstrap
        )
        ups = report["users_per_s"]
        print(
            f"restore: {report['users']:,} users from {report['records']:,} changelog records "
            f"({report['bytes_per_user']:,} B/user)"
        )
        for stage, seconds in report["seconds"].items():
            print(f"  {stage:<16} {seconds:8.3f} s  {ups.get(stage, 0):>10,} users/s")
        print(f"  total            {report['total_users_per_s']:>21,} users/s")
    elif args.kafka:
        from insight_stream.bench.kafka import run_kafka_bench

        report = run_kafka_bench(
            users=args.users, days=args.days, seed=args.seed, bootstrap=args.bootstrap
        )
    else:
        from insight_stream.bench.engine import run_engine_bench

        with Progress(None, "bench") as bar:
            report = run_engine_bench(
                users=args.users,
                days=args.days,
                seed=args.seed,
                flush_every=args.flush_events,
                limit=args.limit,
                stage_events=args.stage_events,
                on_progress=bar.update,
            )
        us = report["us_per_event"]
        print(f"engine: {report['events']:,} events, {report['users']:,} users")
        print(f"  throughput      {report['events_per_s']:,.0f} events/s (one core)")
        print(
            f"  per event       {us['total']:.2f} us = decode {us['decode']:.2f} + process "
            f"{us['process']:.2f} + drain {us['drain']:.2f}"
        )
        if us["stages_instrumented"]:
            print("  stage split (instrumented pass, us/event):")
            for stage, v in us["stages_instrumented"].items():
                print(f"    {stage:<52} {v:8.2f}")
        print(f"  peak RSS        {report['peak_rss_bytes'] / 2**20:,.0f} MiB")
        print(f"  state per user  {report['bytes_per_user']:,.0f} bytes")
    write_json_report(args.json, report)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "bench",
        help="measure engine speed and memory on a simulated shop",
        description="Engine-only benchmark (decode + process + coalesced drain on one core, "
        "simulator time excluded): events/s, microseconds per stage, peak RSS and state bytes "
        "per user. With --kafka: end-to-end through a broker next to a raw kafka-python loop. "
        "With --restore: how fast a changelog restores the shop's state.",
    )
    p.add_argument(
        "--users", type=int, default=100_000, help="simulated users (default: %(default)s)"
    )
    p.add_argument("--days", type=int, default=30, help="simulated days (default: %(default)s)")
    p.add_argument("--seed", type=int, default=7, help="simulator seed (default: %(default)s)")
    p.add_argument("--limit", type=int, help="stop after this many events")
    p.add_argument(
        "--flush-events",
        type=int,
        default=10_000,
        help="drain (publish coalesced profiles) every N events (default: %(default)s)",
    )
    p.add_argument(
        "--stage-events",
        type=int,
        default=200_000,
        help="events in the instrumented per-stage pass; 0 to skip (default: %(default)s)",
    )
    p.add_argument(
        "--kafka",
        action="store_true",
        help="end-to-end through a Kafka broker (embedded Tansu unless --bootstrap)",
    )
    p.add_argument(
        "--restore",
        action="store_true",
        help="time a restore from the changelog (read, engine load, SQLite write) in users/s",
    )
    p.add_argument(
        "--bootstrap", help="use this broker for --kafka/--restore instead of the embedded one"
    )
    p.add_argument("--json", metavar="PATH", help="also write the report as JSON")
    p.set_defaults(func=run)
