"""Wire config, checkpoint store, topics, Kafka clients, metrics and the loop into one run.

Start-up order: validate config (done by the caller) -> lock and open the state directory ->
metrics/health server -> connect (retried with backoff while the broker is unreachable) ->
create/verify topics -> consumer + producer -> loop. Exit codes: 0 clean stop, 2 the
deployment does not fit (topics, state directory), 3 outputs could not be delivered.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from kafka import KafkaAdminClient
from kafka.errors import KafkaError

from insight_stream.processor import Engine, Processor
from insight_stream.runtime.changelog import Changelog
from insight_stream.runtime.checkpoint import (
    CheckpointStore,
    StateDirLockedError,
    StoreMismatchError,
)
from insight_stream.runtime.config import RuntimeConfig
from insight_stream.runtime.health import HealthServer
from insight_stream.runtime.loop import Runner
from insight_stream.runtime.metrics import Metrics
from insight_stream.runtime.queries import OwnerDirectory, QueryService
from insight_stream.runtime.sink import KafkaSink
from insight_stream.runtime.source import KafkaSource
from insight_stream.runtime.topics import TopicMismatchError, ensure_topics

log = logging.getLogger(__name__)

EXIT_MISFIT = 2
T = TypeVar("T")


class Stopped(Exception):
    """A stop was requested while still connecting."""


def with_retry(what: str, fn: Callable[[], T], metrics: Metrics, stop: threading.Event) -> T:
    """Call ``fn`` until it succeeds, backing off 0.5 s -> 10 s on broker errors."""
    delay = 0.5
    while True:
        if stop.is_set():
            raise Stopped(what)
        try:
            return fn()
        except (KafkaError, OSError) as exc:
            metrics.broker_errors.labels(operation="connect").inc()
            log.warning("%s failed (%s); retrying in %.1fs", what, exc, delay)
            metrics.polled()  # still alive: waiting on the broker is not a stalled loop
            if stop.wait(delay):
                raise Stopped(what) from None
            delay = min(delay * 2, 10.0)


def default_processor(cfg: RuntimeConfig) -> Engine:
    return Processor(cfg.engine_config())


def prepare_topics(cfg: RuntimeConfig) -> dict[str, int]:
    """One admin round: create missing topics and verify the rest (raises on misfit)."""
    admin = KafkaAdminClient(
        **cfg.kafka_common(),
        client_id=f"{cfg.client_id}-admin",
        bootstrap_timeout_ms=5000,
        request_timeout_ms=10_000,
    )
    try:
        return ensure_topics(admin, cfg)
    finally:
        admin.close()


def run(
    cfg: RuntimeConfig,
    stop: threading.Event | None = None,
    until: Callable[[Runner], bool] | None = None,
    on_batch: Callable[[int], None] | None = None,
    processor: Any | None = None,
    metrics: Metrics | None = None,
    on_runner: Callable[[Runner], None] | None = None,
) -> int:
    """Run the engine on Kafka until ``stop`` is set or ``until(runner)`` holds; exit code."""
    stop = stop or threading.Event()
    metrics = metrics or Metrics()
    try:
        store = CheckpointStore(cfg.state_dir, cfg.input_topics)
    except (StateDirLockedError, StoreMismatchError, OSError) as exc:
        log.error("cannot use state directory: %s", exc)
        return EXIT_MISFIT
    health = None
    source = sink = None
    queries = QueryService(cfg.pseudonymizer())
    try:
        if cfg.metrics_port:
            health = HealthServer(
                metrics, cfg.metrics_host, cfg.metrics_port, cfg.stall_timeout_s, queries.route
            ).start()
        metrics.polled()
        try:
            parts = with_retry(
                "connect and prepare topics", lambda: prepare_topics(cfg), metrics, stop
            )
            log.info("topics ready: %s", ", ".join(f"{t}({n})" for t, n in sorted(parts.items())))
            source = with_retry("connect consumer", lambda: KafkaSource(cfg), metrics, stop)
            sink_ = with_retry(
                "connect producer",
                lambda: KafkaSink(
                    cfg,
                    on_error=lambda op, exc: metrics.broker_errors.labels(operation=op).inc(),
                    on_produced=lambda topic, n: metrics.produced.labels(topic=topic).inc(n),
                    alive=metrics.polled,
                    stopping=stop,
                ),
                metrics,
                stop,
            )
            sink = sink_
        except Stopped:
            log.info("stop requested while connecting; nothing was processed")
            return 0
        except TopicMismatchError as exc:
            log.error("%s", exc)
            return EXIT_MISFIT
        runner = Runner(
            cfg,
            processor if processor is not None else default_processor(cfg),
            source,
            sink,
            store,
            metrics,
            stop=stop,
            until=until,
            on_batch=on_batch,
            changelog=Changelog(cfg, sink, store.instance_id) if cfg.changelog else None,
        )
        changelog = runner.changelog
        owners = (
            None if changelog is None else OwnerDirectory(changelog.last_markers, store.instance_id)
        )
        queries.attach(runner, parts.get(cfg.clickstream_topic, cfg.partitions), owners)
        if on_runner is not None:
            on_runner(runner)
        source = sink = None  # the runner closes them
        return runner.run()
    finally:
        for client in (source, sink):
            if client is not None:
                client.close()
        store.close()
        if health is not None:
            health.stop()
