"""Rebalance callbacks of the run loop: what happens to state when partitions move.

They run inside ``poll`` on the loop thread, so they never race with folding. On revoke the
loop publishes and checkpoints what it processed (the next owner starts from there); on
assignment it forgets users of partitions that left, restores those that arrived (local
SQLite if it is the changelog's latest, else the changelog), and seeks every partition to
its checkpointed offset. Kept apart from :mod:`.loop` so the commit cycle and the
assignment logic each fit on a page.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from kafka import TopicPartition

from insight_stream.processor.snapshot import gc_paused

if TYPE_CHECKING:
    from insight_stream.processor.contract import Engine
    from insight_stream.runtime.changelog import Changelog
    from insight_stream.runtime.checkpoint import CheckpointStore
    from insight_stream.runtime.config import RuntimeConfig
    from insight_stream.runtime.metrics import Metrics
    from insight_stream.runtime.source import KafkaSource
    from insight_stream.runtime.tasks import InputTasks

log = logging.getLogger("insight_stream.runtime.loop")

Key = tuple[str, int]


def fmt_partitions(tps: set[TopicPartition]) -> str:
    return ", ".join(f"{tp.topic}[{tp.partition}]" for tp in sorted(tps)) or "none"


class Rebalance:
    """The loop's rebalance callbacks (mixed into :class:`~.loop.Runner`)."""

    cfg: RuntimeConfig
    processor: Engine
    source: KafkaSource
    store: CheckpointStore
    metrics: Metrics
    tasks: InputTasks
    changelog: Changelog | None
    lock: Any
    owner: dict[str, int]
    owned: set[int]
    applied: dict[Key, int]
    shared_restored: bool
    closing: bool
    fatal: BaseException | None
    _saved: dict[Key, int]
    _topic_ids: dict[str, str]
    _changed: bool

    if TYPE_CHECKING:  # provided by the Runner

        def commit_cycle(self, in_callback: bool = False, final: bool = False) -> float: ...

        def _recreated(self) -> bool: ...

        def _share_assigned(self, restored: dict[int, bytes]) -> None: ...

    def _on_revoked(self, revoked: set[TopicPartition]) -> None:
        self.metrics.rebalances.labels(kind="revoked").inc()
        if self.closing or self.fatal is not None or not revoked:
            return
        log.info("partitions revoked: %s; committing what was processed", fmt_partitions(revoked))
        try:
            self.commit_cycle(in_callback=True, final=True)  # publish before handing over
        except BaseException as exc:
            self.fatal = exc

    def _on_assigned(self, assigned: set[TopicPartition]) -> None:
        """Restore state of newly owned partitions, forget lost ones, seek to checkpoints."""
        self.metrics.rebalances.labels(kind="assigned").inc()
        if self.fatal is not None:
            return
        try:
            parts = {tp.partition for tp in assigned}
            gone = self.owned - parts
            if gone:
                leaving = [u for u, p in self.owner.items() if p in gone]
                with self.lock:  # queries: not while users leave (Kafka reads stay outside)
                    self.processor.forget(leaving)
                for u in leaving:
                    del self.owner[u]
            new = parts - self.owned
            first = not self.shared_restored
            shared = self.store.load_shared() if first else None
            handed: dict[int, bytes] = {}  # partition -> its last writer's shared blob
            if new and self.changelog is not None:
                sharing = self.cfg.share_models
                got = self._restore_from_changelog(new, (first and shared is None) or sharing)
                if got is not None:
                    restored, from_log = got
                    if sharing and from_log is not None:
                        handed = dict.fromkeys(restored, from_log)
                    if first and shared is None:
                        shared = from_log
            rows = list(self.store.load_users(new, include_unknown=first)) if new or first else []
            if rows or shared is not None:
                # a partition moving into a running engine: its users' profiles are owed
                with self.lock:
                    self.processor.restore(
                        ((u, b) for u, _, b in rows), shared, republish=not first
                    )
            for u, p, _ in rows:
                self.owner[u] = p
            self.shared_restored = True
            stored = self.store.load_offsets()
            starts: dict[Key, int | None] = {}
            for tp in assigned:
                key = (tp.topic, tp.partition)
                starts[key] = stored.get(key)
                self.source.seek(tp, starts[key])
            self.source.resume(list(starts))
            self.tasks.assign(starts)
            self._saved = {k: v for k, v in starts.items() if v is not None}
            self._topic_ids = {}
            self._recreated()
            self.owned = parts
            self._share_assigned(handed)  # model epochs (runtime/sharing.py)
            self._changed = True  # markers name the new owner at the next cycle (queries)
            self.metrics.settled.set(0)
            self.metrics.set_assigned(len(assigned))
            log.info(
                "partitions assigned: %s (restored %d users)", fmt_partitions(assigned), len(rows)
            )
        except BaseException as exc:
            self.fatal = exc

    def _restore_from_changelog(
        self, parts: set[int], want_shared: bool
    ) -> tuple[list[int], bytes | None] | None:
        """Replace the local copy of ``parts`` by the changelog's, unless the local file is
        the state of the partition's last marker (written by this instance at its cycle).
        Returns the partitions restored and (if wanted) the newest marker's shared models."""
        assert self.changelog is not None
        markers = self.changelog.take_over(parts)
        mine = self.store.instance_id, self.store.changelog_cycle
        stale = {p for p, m in markers.items() if (m.get("writer"), m.get("cycle")) != mine}
        if not stale:
            return None
        self.changelog.check_settings(markers, stale)
        with gc_paused():
            r = self.changelog.restore(stale, want_shared, markers)
            self.store.replace_partitions(r.partitions, r.users, r.offsets, r.applied)
        for key, n in r.applied.items():
            self.applied[key] = n
        m = self.metrics
        m.restored.inc(r.records)
        m.restored_users.inc(len(r.users))
        m.restore_duration.observe(r.seconds)
        log.info(
            "restored %d users of partitions %s from %s (%d records) in %.2fs",
            len(r.users),
            ",".join(map(str, r.partitions)),
            self.changelog.topic,
            r.records,
            r.seconds,
        )
        return r.partitions, r.shared
