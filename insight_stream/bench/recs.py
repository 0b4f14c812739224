"""Recommender micro-benchmark: microseconds per ``on_click``, ``on_order`` and ``recommend``.

A simulated shop is decoded up front (outside the timed region) and replayed
through a :class:`~insight_stream.processor.Processor` whose recommender is a
timing subclass, so every call sees realistic state (segments, category
affinities, recent items) and ``recommend`` is called exactly as in production:
once per published profile, every ``flush_every`` events. Run it as a script::

    PYTHONPATH=. python -m insight_stream.bench.recs
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from insight_stream.events import ClickEvent, DlqRecord, OrderEvent, decode
from insight_stream.models.recs import Recommender, RecsConfig
from insight_stream.models.recs.recommender import Recommendation
from insight_stream.models.recs.user import RecsUser
from insight_stream.processor import Processor
from insight_stream.processor.driver import Driver
from insight_stream.sim import Shop, SimConfig


class _TimedRecommender(Recommender):
    """A recommender that adds the time spent in each public call to ``spent``."""

    __slots__ = ("calls", "spent")

    def __init__(self, config: RecsConfig | None = None) -> None:
        super().__init__(config)
        self.spent = {"on_click": 0.0, "on_order": 0.0, "recommend": 0.0}
        self.calls = {"on_click": 0, "on_order": 0, "recommend": 0}

    def on_click(self, u: RecsUser, event: ClickEvent) -> None:
        t = time.perf_counter()
        super().on_click(u, event)
        self.spent["on_click"] += time.perf_counter() - t
        self.calls["on_click"] += 1

    def on_order(self, u: RecsUser, event: OrderEvent, segment_id: int | None = None) -> None:
        t = time.perf_counter()
        super().on_order(u, event, segment_id)
        self.spent["on_order"] += time.perf_counter() - t
        self.calls["on_order"] += 1

    def recommend(
        self,
        u: RecsUser,
        now_ms: int,
        k: int = 10,
        segment_id: int | None = None,
        categories: Sequence[tuple[str, float]] | None = None,
    ) -> list[Recommendation]:
        t = time.perf_counter()
        out = super().recommend(u, now_ms, k, segment_id, categories)
        self.spent["recommend"] += time.perf_counter() - t
        self.calls["recommend"] += 1
        return out


def run_recs_bench(
    users: int = 5000,
    days: int = 60,
    seed: int = 3,
    flush_every: int = 5000,
    config: RecsConfig | None = None,
) -> dict[str, Any]:
    """Replay a simulated shop and return microseconds per recommender call.

    Returns ``{"us_per_call": {name: us}, "calls": {name: n}, "events": n}`` for
    ``on_click``, ``on_order`` and ``recommend`` (``recommend`` includes the
    profile publications at each flush and the processor's quality scoring).
    """
    events = []
    for topic, raw in Shop(SimConfig(users=users, days=days, seed=seed)).events():
        ev = decode(raw, topic)
        if not isinstance(ev, DlqRecord):
            events.append(ev)
    proc = Processor()
    timed = _TimedRecommender(config if config is not None else proc.config.recs)
    proc.recs = timed
    driver = Driver(proc, lambda rec: None, flush_every)
    for ev in events:
        driver.process(ev)
    driver.drain(seal=False)
    return {
        "us_per_call": {
            name: 1e6 * spent / max(timed.calls[name], 1) for name, spent in timed.spent.items()
        },
        "calls": dict(timed.calls),
        "events": len(events),
    }


if __name__ == "__main__":  # pragma: no cover - manual benchmark
    import json

    print(json.dumps(run_recs_bench(), indent=2))
