"""Kafka sink: produce outputs, and make ``flush`` mean "every record is acknowledged".

The loop persists its checkpoint only after :meth:`KafkaSink.flush` returns, so a flush must
either confirm every record or raise. Broker errors (connection, leader moves, timeouts) are
retried with backoff, counted and logged; a record that keeps failing — a non-retriable
error, or retriable ones past ``INSIGHT_PRODUCE_TIMEOUT_S`` — raises :class:`ProduceFailedError`,
and the process stops without committing (the input is replayed on restart, nothing lost).

Per commit cycle there is at most one profile per key (coalesced), and cycles do not overlap
(flush waits), so retries can never reorder two profiles of one user on the compacted topic.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from kafka import KafkaProducer
from kafka.errors import KafkaError, KafkaTimeoutError

from insight_stream.processor.router import Headers
from insight_stream.runtime.config import RuntimeConfig

log = logging.getLogger(__name__)

_Record = tuple[str, bytes | None, bytes | None, Headers | None, int | None, bool]


FATAL_ATTEMPTS = 5  # non-retriable errors: give up after this many rounds, each with a new producer


class ProduceFailedError(RuntimeError):
    """Records could not be delivered; the caller must stop without committing."""


def close_producer(producer: KafkaProducer, timeout: float) -> None:
    """Close within about ``timeout`` seconds, dropping records the broker has not taken.

    kafka-python's ``close(timeout)`` raises when its flush times out and leaves the sender
    running, and the producer's finalizer then flushes again with no limit: exit would hang
    until the delivery timeout (120 s). Callers only give up on records they will replay.
    """
    try:
        producer.close(timeout=timeout)
    except KafkaTimeoutError:
        producer._sender.force_close()  # no public way to abandon undeliverable batches
        producer._sender.join(timeout)
        producer.close(timeout=0)


def producer_options(cfg: RuntimeConfig) -> dict[str, Any]:
    """kafka-python producer settings tuned for throughput with durable, ordered delivery."""
    idempotent = cfg.acks == "all"
    return {
        **cfg.kafka_common(),
        "client_id": f"{cfg.client_id}-producer",
        "acks": "all" if idempotent else 1,
        "enable_idempotence": idempotent,
        "linger_ms": cfg.linger_ms,
        "batch_size": 1 << 20,
        "max_request_size": 8 << 20,
        "compression_type": None,
        "max_block_ms": 10_000,
        "request_timeout_ms": 15_000,
        "delivery_timeout_ms": 30_000,
        "allow_auto_create_topics": False,  # topics are created and checked at start only
    }


class KafkaSink:
    """Buffered producer: :meth:`send` queues, :meth:`flush` confirms or raises."""

    def __init__(
        self,
        cfg: RuntimeConfig,
        producer: Any | None = None,
        on_error: Callable[[str, BaseException], None] | None = None,
        on_produced: Callable[[str, int], None] | None = None,
        alive: Callable[[], None] | None = None,
        stopping: threading.Event | None = None,
    ) -> None:
        self.cfg = cfg
        self._factory: Callable[[], Any] = (
            (lambda: producer)
            if producer is not None
            else (lambda: KafkaProducer(**producer_options(cfg)))
        )
        self.producer = self._factory()
        self._on_error = on_error or (lambda op, exc: None)
        self._on_produced = on_produced or (lambda topic, n: None)
        self._alive = alive or (lambda: None)
        self._stopping = stopping or threading.Event()
        self._inflight: list[tuple[_Record, Any]] = []
        self._retry: list[_Record] = []
        self._first_queued: float | None = None  # perf_counter of the first send since flush
        self.flush_latency_s: float | None = None
        """Last :meth:`flush`: first record queued to all acknowledged (None: nothing sent)."""
        self.first_offsets: dict[tuple[str, int], int] = {}
        """Lowest acknowledged offset per (topic, partition) of records sent with ``track``;
        the caller pops what it reads (the changelog: where a snapshot's cycle begins)."""

    def send(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        headers: Headers | None = None,
        partition: int | None = None,
        track: bool = False,
    ) -> None:
        """Queue one record (``partition`` None: by key); errors are kept for :meth:`flush`.
        ``track``: note its offset, once acknowledged, in :attr:`first_offsets`."""
        rec = (topic, key, value, headers, partition, track)
        if self._first_queued is None:
            self._first_queued = time.perf_counter()
        try:
            fut = self.producer.send(
                topic, value=value, key=key, headers=headers, partition=partition
            )
        except KafkaTimeoutError as exc:  # metadata/buffer not available within max_block_ms
            self._on_error("produce", exc)
            self._retry.append(rec)
            return
        self._inflight.append((rec, fut))

    @property
    def pending(self) -> int:
        return len(self._inflight) + len(self._retry)

    def flush(self) -> dict[str, int]:
        """Block until everything queued is acknowledged; returns records delivered per topic.

        Raises :class:`ProduceFailedError` on a non-retriable error, or when retriable ones
        last longer than the produce timeout (or 8 s once a stop was requested).
        """
        start = time.monotonic()
        delivered: dict[str, int] = {}
        backoff = 0.1
        attempt = 0
        while True:
            while not self._flush_step():  # short waits keep health and SIGTERM responsive
                self._check_deadline(start, attempt, [])
            failed = self._collect(delivered)
            if not failed:
                first, self._first_queued = self._first_queued, None
                self.flush_latency_s = None if first is None else time.perf_counter() - first
                return delivered
            attempt += 1
            self._check_deadline(start, attempt, failed)
            if any(not getattr(exc, "retriable", False) for _, exc in failed):
                self._renew_producer()
            log.warning(
                "produce failed for %d record(s) (%s); retrying in %.1fs",
                len(failed),
                failed[0][1],
                backoff,
            )
            self._sleep(backoff)
            backoff = min(backoff * 2, 5.0)
            for rec, _exc in failed:
                self.send(*rec)

    def _renew_producer(self) -> None:
        """A fresh producer (new producer id): the cure for fenced/unknown-producer errors,
        e.g. after the broker lost its state."""
        log.warning("recreating the producer after a non-retriable error")
        try:
            close_producer(self.producer, 1)
        except Exception as exc:
            log.debug("producer close: %s", exc)
        try:
            self.producer = self._factory()
        except KafkaError as exc:
            self._on_error("produce", exc)

    def _flush_step(self) -> bool:
        """Wait up to 1 s for in-flight records; True when none is pending any more."""
        self._alive()
        try:
            self.producer.flush(timeout=1.0)
            return True
        except KafkaTimeoutError:
            return False

    def _check_deadline(
        self, start: float, attempt: int, failed: list[tuple[_Record, BaseException]]
    ) -> None:
        limit = self.cfg.produce_timeout_s or float("inf")
        if self._stopping.is_set():
            limit = min(limit, 8.0)
        elapsed = time.monotonic() - start
        fatal = [(rec, exc) for rec, exc in failed if not getattr(exc, "retriable", False)]
        if (fatal and attempt >= FATAL_ATTEMPTS) or elapsed > limit:
            rec, exc = (
                fatal
                or failed
                or [
                    (
                        (self.cfg.profiles_topic, None, None, None, None, False),
                        KafkaTimeoutError("flush did not complete"),
                    )
                ]
            )[0]
            raise ProduceFailedError(
                f"{self.pending or len(failed)} record(s) not delivered after {attempt} attempts / "
                f"{elapsed:.1f}s, e.g. to {rec[0]}: {exc}"
            )

    def _collect(self, delivered: dict[str, int]) -> list[tuple[_Record, BaseException]]:
        """Split in-flight futures into delivered (counted) and failed; pending count as failed."""
        failed: list[tuple[_Record, BaseException]] = []
        counts: dict[str, int] = {}
        for rec in self._retry:
            failed.append((rec, KafkaTimeoutError("not sent: metadata or buffer unavailable")))
        self._retry = []
        for rec, fut in self._inflight:
            if not fut.is_done:
                failed.append((rec, KafkaTimeoutError("not acknowledged within flush")))
            elif fut.failed():
                self._on_error("produce", fut.exception)
                failed.append((rec, fut.exception))
            else:
                counts[rec[0]] = counts.get(rec[0], 0) + 1
                if rec[5]:
                    meta, firsts = fut.value, self.first_offsets
                    at = (rec[0], meta.partition)
                    firsts[at] = min(meta.offset, firsts.get(at, meta.offset))
        self._inflight = []
        for topic, n in counts.items():
            delivered[topic] = delivered.get(topic, 0) + n
            self._on_produced(topic, n)
        return failed

    def _sleep(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            self._alive()
            time.sleep(min(0.2, left))

    def close(self) -> None:
        try:
            close_producer(self.producer, 5)
        except Exception as exc:
            log.debug("producer close: %s", exc)
