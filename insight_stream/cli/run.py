"""``insight-stream run``: the engine as a Kafka consumer-group member (see runtime/)."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from typing import Any

from insight_stream.runtime.config import (
    ConfigError,
    add_arguments,
    load_config,
    overrides_from_args,
)

log = logging.getLogger("insight_stream.run")

DESCRIPTION = """\
Consume the clickstream and order topics as a consumer group, update profiles, segments,
recommendations and churn, and publish profiles (compacted, key user_id), churn alerts
and dead letters. State is checkpointed locally (SQLite in the state directory) together
with the input offsets, so a restart resumes where it stopped without loss or double counting.

Every setting below can come from the environment (INSIGHT_*) or the flag; flags win.
Missing topics are created with the configured partitions; existing topics that do not fit
stop the start with a message. SIGTERM/SIGINT finish the batch, flush, commit and exit 0.
Serves /metrics, /healthz and /readyz on the metrics port.

exit codes: 0 stopped cleanly, 2 invalid settings or topics/state that do not fit,
3 outputs could not be delivered (nothing committed; input replays on restart)."""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "run",
        help="run the engine on Kafka (consumer group, checkpoints, metrics)",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(parser)
    parser.set_defaults(func=main)


def install_stop_signals(stop: threading.Event) -> None:
    """First SIGTERM/SIGINT: graceful stop; a second one: exit at once (130)."""

    def handler(signum: int, _frame: object) -> None:
        if stop.is_set():
            log.warning("second %s: exiting without waiting", signal.Signals(signum).name)
            raise SystemExit(130)
        log.info(
            "%s received: finishing the batch, flushing and committing", signal.Signals(signum).name
        )
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def main(args: argparse.Namespace) -> int:
    from insight_stream.runtime.app import run
    from insight_stream.runtime.logs import configure_logging

    try:
        cfg = load_config(overrides=overrides_from_args(args))
    except ConfigError as exc:
        print(f"insight-stream run: {exc}", file=sys.stderr)
        return 2
    configure_logging(cfg.log_format, cfg.log_level)
    log.info("starting with %s", cfg.redacted())
    stop = threading.Event()
    install_stop_signals(stop)
    return run(cfg, stop=stop)
