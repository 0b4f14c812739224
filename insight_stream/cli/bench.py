"""``insight-stream bench``: engine-only (default) or end-to-end through Kafka (``--kafka``)."""

from __future__ import annotations

import argparse

from insight_stream.bench.report import flat_report
from insight_stream.cli.progress import Progress
from insight_stream.cli.report import write_json_report
from insight_stream.cli.usage import UsageError


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(x.replace("_", "")) for x in text.split(",") if x.strip()]
    except ValueError:
        msg = f"--scale-users wants comma-separated user counts, not {text!r}"
        raise UsageError(msg) from None
    if not sizes or min(sizes) < 1:
        raise UsageError("--scale-users wants one or more positive user counts")
    return sizes


def _check(args: argparse.Namespace) -> None:
    modes = [
        f
        for f, on in (("--kafka", args.kafka), ("--restore", args.restore), ("--scale", args.scale))
        if on
    ]
    if len(modes) > 1:
        raise UsageError(f"choose one of --kafka, --restore and --scale (got {' '.join(modes)})")
    if args.rate is not None and not args.kafka:
        raise UsageError("--rate needs --kafka (it paces the producer of the Kafka bench)")
    if args.rate is not None and args.rate <= 0:
        raise UsageError("--rate must be a positive number of events/s")
    if args.seconds is not None and args.rate is None:
        raise UsageError("--seconds needs --kafka --rate")
    if args.seconds is not None and args.seconds <= 0:
        raise UsageError("--seconds must be positive")
    if (args.scale_users is not None or args.scale_days is not None) and not args.scale:
        raise UsageError("--scale-users and --scale-days need --scale")
    if args.scale_days is not None and args.scale_days < 1:
        raise UsageError("--scale-days must be at least 1")
    if args.bootstrap and not (args.kafka or args.restore):
        raise UsageError("--bootstrap needs --kafka or --restore")


def run(args: argparse.Namespace) -> int:
    _check(args)
    mode = "engine"
    if args.scale:
        from insight_stream.bench.scale import (
            DEFAULT_SCALE_DAYS,
            DEFAULT_SCALE_USERS,
            print_scale_header,
            print_scale_row,
            run_scale_bench,
        )

        mode = "scale"
        sizes = _sizes(args.scale_users) if args.scale_users else list(DEFAULT_SCALE_USERS)
        days = args.scale_days or DEFAULT_SCALE_DAYS
        print_scale_header(days)
        report = run_scale_bench(
            sizes, days=days, seed=args.seed, flush_every=args.flush_events, on_row=print_scale_row
        )
    elif args.kafka and args.rate is not None:
        from insight_stream.bench.latency import print_latency, run_latency_bench

        mode = "latency"
        report = run_latency_bench(
            users=args.users,
            days=args.days,
            seed=args.seed,
            rate=args.rate,
            seconds=args.seconds or 30.0,
            bootstrap=args.bootstrap,
        )
        print_latency(report)
    elif args.restore:
        from insight_stream.bench.restore import bench_restore

        mode = "restore"
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

        mode = "kafka"
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
        print(
            f"  profiles        {report['profiles']:,} published "
            f"({report['profiles_per_event']:.3f} per event)"
        )
        if us["stages_instrumented"]:
            print("  stage split (instrumented pass, us/event):")
            for stage, v in us["stages_instrumented"].items():
                print(f"    {stage:<52} {v:8.2f}")
        print(f"  peak RSS        {report['peak_rss_bytes'] / 2**20:,.0f} MiB")
        print(
            f"  state per user  {report['bytes_per_user']:,.0f} bytes as held "
            f"({report['packed_share']:.0%} of users packed; "
            f"{report['bytes_per_user_unpacked']:,.0f} bytes unpacked)"
        )
    write_json_report(args.json, flat_report(mode, report) if args.json else report)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "bench",
        help="measure engine speed and memory on a simulated shop",
        description="Engine-only benchmark (decode + process + coalesced drain on one core, "
        "simulator time excluded): events/s, microseconds per stage, peak RSS and state bytes "
        "per user. With --kafka: end-to-end through a broker next to a raw kafka-python loop. "
        "With --kafka --rate N: event-to-profile latency (p50/p90/p99/max) while a producer "
        "paced at N events/s feeds the full run pipeline. With --restore: how fast a changelog "
        "restores the shop's state. With --scale: the engine-only bench at several shop sizes "
        "(events/s, state B/user, peak RSS per size). --json writes one flat report with a "
        "version field (schema: insight_stream/bench/report.py).",
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
        help="close the coalescing window (publish coalesced profiles) at the first event-time "
        "hour boundary after N events (default: %(default)s)",
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
        "--rate",
        type=float,
        metavar="EVENTS_PER_S",
        help="with --kafka: produce at this steady rate (wall-clock paced, producer side only) "
        "while run consumes, and report latency from each event's produce timestamp to the "
        "profile record it caused (p50/p90/p99/max), the achieved rate and the end lag",
    )
    p.add_argument(
        "--seconds",
        type=float,
        help="with --kafka --rate: produce for this long, i.e. at most rate x seconds of the "
        "shop's first events (default: 30)",
    )
    p.add_argument(
        "--scale",
        action="store_true",
        help="engine-only bench at each --scale-users size, one process per size, no stage "
        "pass; prints events/s, state B/user and peak RSS per size",
    )
    p.add_argument(
        "--scale-users",
        metavar="N,N,...",
        help="with --scale: comma-separated shop sizes in users (default: 1000,3000,10000, "
        "about two minutes on a shared 2-core machine)",
    )
    p.add_argument(
        "--scale-days",
        type=int,
        help="with --scale: simulated days per size (default: 3; --days is not used)",
    )
    p.add_argument(
        "--bootstrap", help="use this broker for --kafka/--restore instead of the embedded one"
    )
    p.add_argument(
        "--json",
        metavar="PATH",
        help="also write the report as flat JSON with a version field (every mode)",
    )
    p.set_defaults(func=run)
