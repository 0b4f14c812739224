"""Prequential evaluation of recommendations on the Instacart sample.

Orders are replayed in event time. Before each order is revealed, the engine's
top ``k`` for that user is scored against the products of the order; then the
engine learns the order. Only orders of users with at least one earlier order
are scored (a first order has no history to personalise from). Metrics are
HR@k, Recall@k and NDCG@k (:mod:`insight_stream.evaluate.ranking`), also split
into *repeat* items (bought by the user before) and *new* items: the repeat
means cover orders with at least one repeat item, relevance = repeat items only;
likewise for new items.

Two baselines run in the same pass: global popularity (orders containing the
item so far) and personal purchase frequency (the user's most bought items so
far, ties to the most recently bought, then by id).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from insight_stream.evaluate.datasets import instacart as dataset
from insight_stream.evaluate.ranking import RankingMeans
from insight_stream.events import ClickEvent, ControlEvent, OrderEvent
from insight_stream.models.recs import Recommender, RecsConfig, RecsUser
from insight_stream.processor import EngineConfig, Processor

Event = ClickEvent | OrderEvent | ControlEvent


class Engine(Protocol):
    """What the harness needs: the Processor provides exactly this."""

    def process(self, event: Event) -> object: ...

    def recommend(self, user_id: str, k: int) -> list[str]: ...


class RecommenderEngine:
    """The recommendations model alone behind the :class:`Engine` interface
    (no segments, stream time = latest event time).

    >>> engine = RecommenderEngine()
    >>> engine.recommend("nobody", 3)
    []
    """

    __slots__ = ("model", "now", "users")

    def __init__(self, config: RecsConfig | None = None) -> None:
        self.model = Recommender(config)
        self.users: dict[str, RecsUser] = {}
        self.now = 0

    def process(self, event: Event) -> None:
        """Fold one event into the model."""
        self.now = max(self.now, event.ts)
        if isinstance(event, ControlEvent):
            self.users.pop(event.user_id, None)
            return
        u = self.users.get(event.user_id)
        if u is None:
            u = self.users[event.user_id] = self.model.new_user()
        if isinstance(event, OrderEvent):
            self.model.on_order(u, event, None)
        else:
            self.model.on_click(u, event)

    def recommend(self, user_id: str, k: int) -> list[str]:
        """Item ids of the user's top ``k`` at the current stream time."""
        u = self.users.get(user_id) or self.model.new_user()
        return [item for item, _, _, _ in self.model.recommend(u, self.now, k)]


class _TopCounts:
    """Counts with an exact top-k kept incrementally (counts only ever grow)."""

    __slots__ = ("counts", "k", "top")

    def __init__(self, k: int) -> None:
        self.k = k
        self.counts: dict[str, int] = {}
        self.top: list[str] = []

    def add(self, item: str) -> None:
        counts, top = self.counts, self.top
        c = counts[item] = counts.get(item, 0) + 1
        if item not in top:
            if len(top) < self.k:
                top.append(item)
            else:
                worst = top[-1]
                if (-c, item) >= (-counts[worst], worst):
                    return
                top[-1] = item
        top.sort(key=lambda i: (-counts[i], i))


def _metric_block(means: dict[str, RankingMeans], prefix: str) -> dict[str, float]:
    out = means["all"].as_dict(prefix)
    out.update(means["repeat"].as_dict(prefix, "_repeat"))
    out.update(means["new"].as_dict(prefix, "_new"))
    return out


def prequential(engine: Engine, events: Iterable[OrderEvent], k: int = 10) -> dict[str, Any]:
    """Score-then-learn over ``events`` (order events in event-time order).

    Returns ``{"dataset", "k", "n_orders" (scored), "n_events", "n_users",
    "metrics": {"recs_hr_at_10", ..., "_repeat", "_new"}, "baselines":
    {"popularity": {...}, "personal_frequency": {...}}}`` with the same metric
    names in each block.
    """
    names = ("engine", "popularity", "personal_frequency")
    means = {name: {part: RankingMeans(k) for part in ("all", "repeat", "new")} for name in names}
    popular = _TopCounts(k)
    bought: dict[str, dict[str, tuple[int, int]]] = {}  # user -> item -> (count, last order #)
    n_events = 0
    for event in events:
        n_events += 1
        user = event.user_id
        items = list(dict.fromkeys(line.item_id for line in event.lines))
        history = bought.get(user)
        if event.type == "order_placed" and history and items:
            relevant = set(items)
            repeat = {i for i in items if i in history}
            new = relevant - repeat
            ranked_own = sorted(history, key=lambda i: (-history[i][0], -history[i][1], i))
            recs = {
                "engine": engine.recommend(user, k),
                "popularity": list(popular.top),
                "personal_frequency": ranked_own[:k],
            }
            for name, rec in recs.items():
                m = means[name]
                m["all"].add(rec, relevant)
                m["repeat"].add(rec, repeat)
                m["new"].add(rec, new)
        engine.process(event)
        if event.type == "order_placed":
            history = bought.setdefault(user, {})
            for item in items:
                popular.add(item)
                count = history.get(item, (0, 0))[0]
                history[item] = (count + 1, n_events)
    return {
        "dataset": "instacart",
        "k": k,
        "n_orders": means["engine"]["all"].n,
        "n_events": n_events,
        "n_users": len(bought),
        "metrics": _metric_block(means["engine"], "recs_"),
        "baselines": {
            "popularity": _metric_block(means["popularity"], "recs_"),
            "personal_frequency": _metric_block(means["personal_frequency"], "recs_"),
        },
    }


def evaluate(
    engine: Engine | None = None, k: int = 10, max_users: int | None = None
) -> dict[str, Any]:
    """Prequential run on the Instacart sample (``max_users``: first users by id only).

    Without an engine, :class:`RecommenderEngine` with ``RecsConfig.grocery()`` runs.
    """
    if engine is None:
        engine = Processor(EngineConfig(recs=RecsConfig.grocery(), track_quality=False))
    result = prequential(engine, dataset.events(max_users=max_users), k)
    result["max_users"] = max_users
    return result
