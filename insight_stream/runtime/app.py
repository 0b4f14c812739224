"""Wire config, checkpoint store, topics, Kafka clients, metrics and the loop into one run.

Start-up order: validate config (done by the caller) -> lock and open the state directory,
refuse state built under other state-bound engine settings -> metrics/health server ->
connect (retried with backoff while the broker is unreachable, at most
``INSIGHT_BROKER_TIMEOUT_S``) -> create/verify topics -> consumer + producer -> loop.

Exit codes: 0 clean stop, 2 the deployment does not fit (settings, topics, state directory
or the engine settings its state was built with), 3 outputs could not be delivered, 4 a
checkpointed offset is gone (``INSIGHT_ON_OFFSET_LOSS``), 5 no broker reachable at start
within ``INSIGHT_BROKER_TIMEOUT_S`` (a broker lost later only fails /healthz: the loop keeps
retrying and loses nothing), 143 a second SIGTERM/SIGINT while stopping.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from kafka import KafkaAdminClient
from kafka.errors import KafkaError

from insight_stream.processor import EngineConfig, Processor
from insight_stream.processor.engine_file import state_settings
from insight_stream.runtime.changelog import Changelog
from insight_stream.runtime.checkpoint import (
    STATE_SETTINGS_ADVICE,
    CheckpointStore,
    StateDirLockedError,
    StoreMismatchError,
)
from insight_stream.runtime.config import RuntimeConfig
from insight_stream.runtime.health import HealthServer
from insight_stream.runtime.loop import EXIT_MISFIT, Runner
from insight_stream.runtime.metrics import Metrics
from insight_stream.runtime.queries import OwnerDirectory, QueryService
from insight_stream.runtime.sink import KafkaSink
from insight_stream.runtime.source import KafkaSource
from insight_stream.runtime.topics import TopicMismatchError, ensure_topics

log = logging.getLogger(__name__)

EXIT_BROKER_UNREACHABLE = 5
T = TypeVar("T")


class Stopped(Exception):
    """A stop was requested while still connecting."""


class BrokerUnreachableError(Exception):
    """No broker answered within the start-up deadline."""


def with_retry(
    what: str,
    fn: Callable[[], T],
    metrics: Metrics,
    stop: threading.Event,
    deadline: float | None = None,
) -> T:
    """Call ``fn`` until it succeeds, backing off 0.5 s -> 10 s on broker errors; past the
    monotonic ``deadline`` raise :class:`BrokerUnreachableError` with the last error."""
    delay = 0.5
    while True:
        if stop.is_set():
            raise Stopped(what)
        try:
            result = fn()
            metrics.broker_seen()
            return result
        except (KafkaError, OSError) as exc:
            metrics.broker_errors.labels(operation="connect").inc()
            if deadline is not None and time.monotonic() >= deadline:
                raise BrokerUnreachableError(f"{what}: {exc}") from exc
            if deadline is not None:
                delay = max(0.05, min(delay, deadline - time.monotonic()))
            log.warning("%s failed (%s); retrying in %.1fs", what, exc, delay)
            metrics.polled()  # still alive: waiting on the broker is not a stalled loop
            if stop.wait(delay):
                raise Stopped(what) from None
            delay = min(delay * 2, 10.0)


def prepare_topics(cfg: RuntimeConfig, timeout_s: float = 5.0) -> dict[str, int]:
    """One admin round: create missing topics and verify the rest (raises on misfit)."""
    admin = KafkaAdminClient(
        **cfg.kafka_common(),
        client_id=f"{cfg.client_id}-admin",
        bootstrap_timeout_ms=max(100, int(min(timeout_s, 5.0) * 1000)),
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
    engine: EngineConfig | None = None,
) -> int:
    """Run the engine on Kafka until ``stop`` is set or ``until(runner)`` holds; exit code.

    ``engine`` is the engine config from the file and ``INSIGHT_ENGINE__*`` (default: the
    defaults); the runtime's own engine settings are applied on top. ``processor`` replaces
    the engine built from it (tests); its state-bound settings are checked all the same.
    """
    stop = stop or threading.Event()
    metrics = metrics or Metrics()
    engine_cfg = cfg.engine_config(engine)
    try:
        store = CheckpointStore(cfg.state_dir, cfg.input_topics)
    except (StateDirLockedError, StoreMismatchError, OSError) as exc:
        log.error("cannot use state directory: %s", exc)
        return EXIT_MISFIT
    try:
        store.check_settings(state_settings(engine_cfg), STATE_SETTINGS_ADVICE)
    except StoreMismatchError as exc:
        log.error("cannot use state directory: %s", exc)
        store.close()
        return EXIT_MISFIT
    health = None
    source = sink = None
    queries = QueryService(cfg.pseudonymizer())
    try:
        if cfg.metrics_port:
            health = HealthServer(
                metrics,
                cfg.metrics_host,
                cfg.metrics_port,
                cfg.stall_timeout_s,
                broker_timeout_s=cfg.broker_timeout_s,
                routes=queries.route,
            ).start()
        metrics.polled()
        deadline = time.monotonic() + cfg.broker_timeout_s
        try:
            parts = with_retry(
                "connect and prepare topics",
                lambda: prepare_topics(cfg, deadline - time.monotonic()),
                metrics,
                stop,
                deadline,
            )
            log.info("topics ready: %s", ", ".join(f"{t}({n})" for t, n in sorted(parts.items())))
            source = with_retry(
                "connect consumer", lambda: KafkaSource(cfg), metrics, stop, deadline
            )
            sink_ = with_retry(
                "connect producer",
                lambda: KafkaSink(
                    cfg,
                    on_error=lambda op, exc: metrics.broker_errors.labels(operation=op).inc(),
                    on_produced=lambda topic, n: _produced(metrics, topic, n),
                    alive=metrics.polled,
                    stopping=stop,
                ),
                metrics,
                stop,
                deadline,
            )
            sink = sink_
        except Stopped:
            log.info("stop requested while connecting; nothing was processed")
            return 0
        except BrokerUnreachableError as exc:
            log.error(
                "cannot reach the Kafka broker at %s within %gs (INSIGHT_BROKER_TIMEOUT_S): %s",
                cfg.bootstrap_servers,
                cfg.broker_timeout_s,
                exc,
            )
            return EXIT_BROKER_UNREACHABLE
        except TopicMismatchError as exc:
            log.error("%s", exc)
            return EXIT_MISFIT
        runner = Runner(
            cfg,
            processor if processor is not None else Processor(engine_cfg),
            source,
            sink,
            store,
            metrics,
            stop=stop,
            until=until,
            on_batch=on_batch,
            changelog=(
                Changelog(cfg, sink, store.instance_id, state_settings(engine_cfg))
                if cfg.changelog
                else None
            ),
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


def _produced(metrics: Metrics, topic: str, n: int) -> None:
    """Records acknowledged: count them, and the broker is evidently there."""
    metrics.produced.labels(topic=topic).inc(n)
    metrics.broker_seen()
