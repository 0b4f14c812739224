"""Kafka source: the consumer-group member that feeds the loop.

Auto-commit is off and positions come from the checkpoint store on every assignment (the
store is the source of truth); the group commit only mirrors them for lag monitoring. The
range assignor gives one instance partition *p* of every input topic, which keeps a user's
clickstream and orders (same key, same partition count) in one instance.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from kafka import KafkaConsumer, TopicPartition
from kafka.consumer.subscription_state import ConsumerRebalanceListener
from kafka.coordinator.assignors.range import RangePartitionAssignor
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata

from insight_stream.runtime.config import RuntimeConfig

log = logging.getLogger(__name__)

Offsets = Mapping[tuple[str, int], int]


def consumer_options(cfg: RuntimeConfig) -> dict[str, Any]:
    """kafka-python consumer settings: big fetches, manual commits, earliest for new state."""
    return {
        **cfg.kafka_common(),
        "client_id": f"{cfg.client_id}-consumer",
        "group_id": cfg.group_id,
        "enable_auto_commit": False,
        # every assigned partition is sought explicitly (checkpoint or beginning); an offset
        # beyond the end means the broker lost data or the topic was recreated: raise, never
        # silently jump (the loop applies INSIGHT_ON_OFFSET_LOSS)
        "auto_offset_reset": "none",
        "allow_auto_create_topics": False,
        "max_poll_records": cfg.batch_size,
        "fetch_max_bytes": 64 << 20,
        "max_partition_fetch_bytes": 16 << 20,
        "fetch_max_wait_ms": 100,
        "session_timeout_ms": cfg.session_timeout_ms,
        "heartbeat_interval_ms": cfg.heartbeat_interval_ms,
        "partition_assignment_strategy": [RangePartitionAssignor],
        "bootstrap_timeout_ms": 5000,
    }


def _to_kafka(offsets: Offsets) -> dict[TopicPartition, OffsetAndMetadata]:
    return {TopicPartition(t, p): OffsetAndMetadata(o, "", -1) for (t, p), o in offsets.items()}


class _Listener(ConsumerRebalanceListener):
    def __init__(
        self,
        revoked: Callable[[set[TopicPartition]], None],
        assigned: Callable[[set[TopicPartition]], None],
    ) -> None:
        self._revoked, self._assigned = revoked, assigned

    def on_partitions_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        self._revoked(set(revoked))

    def on_partitions_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        self._assigned(set(assigned))


def unpark_resumed(consumer: Any) -> None:
    """Work around a kafka-python 3.0 stall after ``pause``/``resume`` (why the first
    attempt at event-time alignment stalled).

    Pausing a partition whose fetched records are not yet returned *parks* them
    (KAFKA-7548). ``Fetcher._fetched_records`` gives them back only while no partition's
    records are in line (``_next_partition_records is None``), but a drained batch stays in
    line as an empty, falsy object, never None. Meanwhile ``_fetchable_partitions``
    excludes the parked partition from every fetch, so it never receives data again.
    Clearing the exhausted slot lets the next poll restore the parked records, exactly as
    it would have after a fresh fetch. ``tests/runtime/test_pause.py`` reproduces it.
    """
    fetcher = getattr(consumer, "_fetcher", None)
    if fetcher is None or not getattr(fetcher, "_paused_partition_records", None):
        return
    current = getattr(fetcher, "_next_partition_records", None)
    if current is not None and not current:
        fetcher._next_partition_records = None


def drop_parked(consumer: Any, tp: TopicPartition) -> None:
    """Forget records kafka-python fetched for ``tp`` before a seek (parked while paused, or
    in line): ``seek`` does not drop them, and once resumed they would be returned with
    offsets from before the seek, making the consumer's position jump over the records in
    between (lost events; found by ``tests/integration/test_scale_out.py``)."""
    fetcher = getattr(consumer, "_fetcher", None)
    if fetcher is None:
        return
    for name in ("_paused_partition_records", "_paused_completed_fetches"):
        parked = getattr(fetcher, name, None)
        if isinstance(parked, dict):
            parked.pop(tp, None)
    current = getattr(fetcher, "_next_partition_records", None)
    if current is not None and getattr(current, "topic_partition", None) == tp:
        fetcher._next_partition_records = None
    completed = getattr(fetcher, "_completed_fetches", None)
    if completed is not None:
        for fetch in [f for f in completed if getattr(f, "topic_partition", None) == tp]:
            completed.remove(fetch)


class KafkaSource:
    """Subscribes the group to the input topics; rebalance callbacks go to the loop."""

    def __init__(self, cfg: RuntimeConfig, consumer: Any | None = None) -> None:
        self.cfg = cfg
        self.consumer = consumer if consumer is not None else KafkaConsumer(**consumer_options(cfg))

    def subscribe(
        self,
        on_revoked: Callable[[set[TopicPartition]], None],
        on_assigned: Callable[[set[TopicPartition]], None],
    ) -> None:
        self.consumer.subscribe(
            list(self.cfg.input_topics), listener=_Listener(on_revoked, on_assigned)
        )

    def poll(self, timeout_ms: int) -> dict[TopicPartition, list[Any]]:
        unpark_resumed(self.consumer)
        return self.consumer.poll(timeout_ms=timeout_ms, max_records=self.cfg.batch_size)

    def rebalancing(self) -> bool:
        """True while the group rebalances: the loop must keep polling to finish it (read from
        kafka-python's private coordinator, defensively: an upgrade degrades to False)."""
        coordinator = getattr(self.consumer, "_coordinator", None)
        try:
            return bool(coordinator.rebalance_in_progress() or coordinator.need_rejoin())
        except Exception:
            return False

    def last_contact(self) -> float | None:
        """Monotonic time of the group coordinator's last heartbeat answer, None if none yet.

        The only broker round trip an idle, healthy consumer makes; kafka-python keeps it on
        its (private) heartbeat object, read defensively so a client upgrade degrades to None.
        """
        heartbeat = getattr(getattr(self.consumer, "_coordinator", None), "heartbeat", None)
        seen = getattr(heartbeat, "last_receive", None)
        return seen if isinstance(seen, float) and seen != float("-inf") else None

    def seek_to_beginning(self, keys: Iterable[tuple[str, int]]) -> None:
        tps = [TopicPartition(t, p) for t, p in keys]
        for tp in tps:
            drop_parked(self.consumer, tp)
        self.consumer.seek_to_beginning(*tps)

    def seek(self, tp: TopicPartition, offset: int | None) -> None:
        """Resume at ``offset``; None = no checkpoint yet, so rebuild from the beginning."""
        drop_parked(self.consumer, tp)
        if offset is None:
            self.consumer.seek_to_beginning(tp)
        else:
            self.consumer.seek(tp, offset)

    def commit(self, offsets: Offsets) -> None:
        """Mirror checkpointed positions to the group (raises KafkaError; caller counts it)."""
        if offsets:
            self.consumer.commit(_to_kafka(offsets), timeout_ms=5000)

    def commit_async(self, offsets: Offsets) -> None:
        """Non-blocking commit, for rebalance callbacks (they run on the consumer IO thread)."""
        if offsets:
            self.consumer.commit_async(_to_kafka(offsets))

    def assigned(self) -> set[tuple[str, int]]:
        """(topic, partition) of every partition currently assigned to this instance."""
        return {(tp.topic, tp.partition) for tp in self.consumer.assignment()}

    def highwaters(self) -> dict[tuple[str, int], int | None]:
        """High watermark per assigned partition from the last fetch (None: not fetched yet).

        From fetch responses, not ``end_offsets`` (which Tansu reports wrong), and free:
        no request is sent.
        """
        hw = self.consumer.highwater
        return {(tp.topic, tp.partition): hw(tp) for tp in self.consumer.assignment()}

    def topic_ids(self) -> dict[str, str]:
        """Broker-assigned ids of the input topics, as the consumer's metadata last saw them.

        A changed id means the topic was deleted and recreated, which offsets alone cannot
        tell once the new topic has been refilled past them. kafka-python keeps the ids in
        its cluster metadata only (no public accessor).
        """
        cluster = getattr(getattr(self.consumer, "_client", None), "cluster", None)
        if cluster is None:
            return {}
        ids = {t: cluster.topic_id(t) for t in self.cfg.input_topics}
        return {t: str(i) for t, i in ids.items() if i is not None}

    def pause(self, keys: Iterable[tuple[str, int]]) -> None:
        """Stop fetching these partitions (their merge buffer is full)."""
        self.consumer.pause(*[TopicPartition(t, p) for t, p in keys])

    def resume(self, keys: Iterable[tuple[str, int]]) -> None:
        tps = [TopicPartition(t, p) for t, p in keys]
        if tps:
            self.consumer.resume(*tps)

    def lag(self, positions: Offsets) -> dict[tuple[str, int], int]:
        """High-watermark minus position per assigned partition (from the last fetch)."""
        out = {}
        for tp in self.consumer.assignment():
            hw = self.consumer.highwater(tp)
            if hw is None:
                continue
            pos = positions.get((tp.topic, tp.partition))
            out[(tp.topic, tp.partition)] = max(0, hw - (pos if pos is not None else 0))
        return out

    def close(self) -> None:
        try:
            self.consumer.close(autocommit=False)
        except KafkaError as exc:
            log.debug("consumer close: %s", exc)
