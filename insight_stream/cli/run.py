"""``insight-stream run``: the engine as a Kafka consumer-group member (see runtime/)."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from typing import Any

from insight_stream.cli.engine_args import add_engine_config_argument, engine_config_from_args
from insight_stream.cli.usage import UsageError
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

Every setting below can come from the environment (INSIGHT_*) or the flag; flags win. An
INSIGHT_* variable that is no setting (a typo) stops the start, naming the closest one.
The SASL password has no flag (a command line is visible in ps): INSIGHT_SASL_PASSWORD or
INSIGHT_SASL_PASSWORD_FILE. Model settings come from --engine-config (TOML; see
`insight-stream config --print-defaults`) and INSIGHT_ENGINE__SECTION__KEY variables; use
the same with `replay` to get the same answers. Settings that change what saved state
means are stored with the checkpoint: a restart with other values is refused (exit 2).

Missing topics are created with the configured partitions; existing topics that do not fit
stop the start with a message. SIGTERM/SIGINT finish the batch, flush, commit and exit 0;
a second one while stopping exits 143 at once (the checkpoint stays consistent).
Serves /metrics, /healthz and /readyz on the metrics port; /healthz is 503 when the loop
stalls (INSIGHT_STALL_TIMEOUT_S) or no broker answered for INSIGHT_BROKER_TIMEOUT_S.

exit codes: 0 stopped cleanly, 2 invalid settings or topics/state that do not fit,
3 outputs could not be delivered (nothing committed; input replays on restart),
4 a checkpointed offset no longer exists (INSIGHT_ON_OFFSET_LOSS=fail),
5 no broker reachable at start within INSIGHT_BROKER_TIMEOUT_S,
143 a second SIGTERM/SIGINT while stopping."""

EXIT_SECOND_SIGNAL = 143


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "run",
        help="run the engine on Kafka (consumer group, checkpoints, metrics)",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(parser)
    add_engine_config_argument(parser)
    parser.set_defaults(func=main)


def install_stop_signals(stop: threading.Event) -> None:
    """First SIGTERM/SIGINT: graceful stop; a second one: exit 143 at once.

    ``os._exit``, not ``SystemExit``: an exception would run the very ``finally`` blocks
    (flush, close) the operator is tired of waiting for. Nothing is lost: the checkpoint is
    one SQLite transaction, exactly as after ``kill -9``.
    """

    def handler(signum: int, _frame: object) -> None:
        if stop.is_set():
            log.warning("second %s: exiting without waiting", signal.Signals(signum).name)
            logging.shutdown()
            os._exit(EXIT_SECOND_SIGNAL)
        log.info(
            "%s received: finishing the batch, flushing and committing", signal.Signals(signum).name
        )
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def main(args: argparse.Namespace) -> int:
    from insight_stream.runtime.app import run
    from insight_stream.runtime.logs import configure_logging

    errors = []
    try:
        cfg = load_config(overrides=overrides_from_args(args))
    except ConfigError as exc:
        errors.append(str(exc))
    try:
        engine = engine_config_from_args(args)
    except UsageError as exc:
        errors.append(str(exc))
    if errors:
        print(f"insight-stream run: {chr(10).join(errors)}", file=sys.stderr)
        return 2
    configure_logging(cfg.log_format, cfg.log_level)
    log.info("starting with %s", cfg.redacted())
    stop = threading.Event()
    install_stop_signals(stop)
    return run(cfg, stop=stop, engine=engine)
