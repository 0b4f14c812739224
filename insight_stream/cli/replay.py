"""``insight-stream replay``: run the engine over JSONL files, write outputs as JSONL."""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

import orjson

from insight_stream.cli.engine_args import add_engine_config_argument, engine_config_from_args
from insight_stream.cli.progress import Progress
from insight_stream.cli.usage import UsageError
from insight_stream.events import InputLimits
from insight_stream.events.limits import DAY_MS, MIN_TS_2000
from insight_stream.processor import Processor
from insight_stream.processor.driver import Driver
from insight_stream.replay import DEFAULT_PARTITIONS, replay_files
from insight_stream.replay.sink import JsonlSink
from insight_stream.runtime.config import ConfigError, load_config


def input_files(paths: list[str]) -> tuple[list[Path], Path | None]:
    """Expand directories to their ``clickstream.jsonl``/``orders.jsonl``; find a truth file."""
    files: list[Path] = []
    truth: Path | None = None
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = [path / n for n in ("clickstream.jsonl", "orders.jsonl") if (path / n).exists()]
            if not found:
                raise UsageError(f"{path} has no clickstream.jsonl or orders.jsonl")
            files.extend(found)
            if (path / "truth.json").exists():
                truth = path / "truth.json"
        elif path.exists():
            files.append(path)
        else:
            raise UsageError(f"input {path} does not exist")
    return files, truth


def run(args: argparse.Namespace) -> int:
    try:  # late-event settings and the pseudonymisation key: the environment `run` reads
        runtime = load_config(os.environ)
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    engine = replace(
        runtime.engine_config(engine_config_from_args(args)),
        flush_events=args.flush_events or runtime.flush_events,
    )
    files, truth_path = input_files(args.inputs)
    if args.truth:
        truth_path = Path(args.truth)
    total = None
    if not args.no_count:
        total = sum(sum(1 for _ in f.open("rb")) for f in files)
    proc = Processor(engine)
    limits = InputLimits(
        min_ts_ms=args.min_event_ts,
        max_future_skew_ms=None if args.no_future_check else args.max_future_skew,
    )
    now_ms = None if args.no_future_check else int(time.time() * 1000)
    pz = runtime.pseudonymizer()  # the same INSIGHT_PSEUDONYMIZE_KEY as `run`
    started = time.perf_counter()
    with JsonlSink(Path(args.out)) as sink, Progress(total, "replay") as bar:
        driver = Driver(proc, lambda rec: sink.send(*rec), flush_events=engine.flush_events)
        replay_files(driver, files, args.partitions, bar.update, limits, now_ms, pz)
        driver.drain(seal=False)  # settle: the last window, as `run` publishes once caught up
    res = driver.stats
    elapsed = time.perf_counter() - started
    print(
        f"replayed {res.events:,} events in {elapsed:.1f}s "
        f"({res.events / max(elapsed, 1e-9):,.0f}/s); "
        f"published {res.profiles:,} profiles, {res.alerts:,} alerts; "
        f"DLQ {res.dlq_total:,} {dict(sorted(res.dlq.items())) or ''}",
        file=sys.stderr,
    )
    print(f"outputs in {args.out}/: profiles.jsonl, alerts.jsonl, dlq.jsonl", file=sys.stderr)
    if not args.quiet:
        from insight_stream.cli.summary import print_summary

        truth = None
        if truth_path is not None:
            from insight_stream.sim import GroundTruth

            truth = GroundTruth.from_json(orjson.loads(truth_path.read_bytes()))
        print_summary(sink.latest, sink.alerts, truth)
    return 0


def _duration(text: str) -> int:
    from insight_stream.runtime.config import parse_duration

    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _timestamp(text: str) -> int:
    from insight_stream.events import to_epoch_ms

    try:
        return to_epoch_ms(int(text) if text.lstrip("-").isdigit() else text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "replay",
        help="run the engine over JSONL event files (no Kafka)",
        description="Merge JSONL input files by event time, run the full engine and write "
        "profiles.jsonl (coalesced per flush), alerts.jsonl and dlq.jsonl (malformed records "
        "with the reason) to --out. Same input, same output, byte for byte; the same alerts "
        "and final profiles as `insight-stream run` on topics with --partitions partitions.",
    )
    p.add_argument("inputs", nargs="+", help="JSONL files, or directories written by `simulate`")
    p.add_argument("--out", default="out/replay", help="output directory (default: %(default)s)")
    p.add_argument(
        "--flush-events",
        type=int,
        default=None,
        help="coalesce profiles over this many records, closing at the next event-time hour "
        "boundary (default: INSIGHT_FLUSH_EVENTS, as "
        "for `run`, else 10000). INSIGHT_ALLOWED_LATENESS and INSIGHT_LATE_POLICY are read "
        "from the environment too, so `run` and `replay` treat late events alike",
    )
    p.add_argument(
        "--partitions",
        type=int,
        default=DEFAULT_PARTITIONS,
        help="split each file by user id as Kafka would over this many partitions, the "
        "partition count of the topics `run` reads (default: %(default)s)",
    )
    add_engine_config_argument(p)
    p.add_argument("--truth", help="ground-truth file (default: truth.json next to the inputs)")
    p.add_argument(
        "--no-count",
        action="store_true",
        help="skip counting input lines first (progress without a total)",
    )
    p.add_argument("--quiet", action="store_true", help="no summary")
    p.add_argument(
        "--max-future-skew",
        type=_duration,
        default=DAY_MS,
        metavar="DURATION",
        help="DLQ (future_timestamp) events this far ahead of the wall clock, e.g. 1d, 6h, "
        "90s (default: 1d)",
    )
    p.add_argument(
        "--no-future-check",
        action="store_true",
        help="no wall-clock check: output depends only on the input (far-future files)",
    )
    p.add_argument(
        "--min-event-ts",
        type=_timestamp,
        default=MIN_TS_2000,
        metavar="TS",
        help="DLQ (too_old) events before this, ISO-8601 or epoch ms (default: 2000-01-01)",
    )
    p.set_defaults(func=run)
