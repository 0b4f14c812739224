"""Prequential evaluation of recommendations on the Instacart sample.

Orders are replayed in event time. Before each order is revealed, the engine's
top ``k`` for that user is scored against the products of the order; then the
engine learns the order. Only orders of users with at least one earlier order
are scored (a first order has no history to personalise from). Metrics are
HR@k, Recall@k and NDCG@k (:mod:`insight_stream.evaluate.ranking`), also split
into *repeat* items (bought by the user before) and *new* items: the repeat
means cover orders with at least one repeat item, relevance = repeat items only;
likewise for new items.

The baselines of :mod:`insight_stream.evaluate.baselines` run in the same pass
(popularity, personal frequency, SAR, TIFU-KNN, session item-kNN), each scored
on the same orders before it learns them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from insight_stream.evaluate.baselines import Baseline, default_baselines
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


def _metric_block(
    means: dict[str, RankingMeans], shown: set[str], catalogue: int, prefix: str
) -> dict[str, float]:
    out = means["all"].as_dict(prefix)
    out.update(means["repeat"].as_dict(prefix, "_repeat"))
    out.update(means["new"].as_dict(prefix, "_new"))
    out[f"{prefix}coverage_at_{means['all'].k}"] = len(shown) / catalogue if catalogue else 0.0
    return out


def prequential(
    engine: Engine,
    events: Iterable[OrderEvent],
    k: int = 10,
    baselines: dict[str, Baseline] | None = None,
) -> dict[str, Any]:
    """Score-then-learn over ``events`` (order events in event-time order).

    ``baselines`` default to :func:`~insight_stream.evaluate.baselines.default_baselines`
    (popularity, personal frequency, SAR, TIFU-KNN, item-kNN); each is scored on the
    same orders, before it learns them. Returns ``{"dataset", "k", "n_orders"
    (scored), "n_events", "n_users", "metrics": {"recs_hr_at_10", ..., "_repeat",
    "_new", "recs_coverage_at_10"}, "baselines": {name: {...}}}`` with the same
    metric names in each block. Coverage is the share of the catalogue (items
    ordered by the end) that appeared in some scored top ``k``.
    """
    models = default_baselines() if baselines is None else baselines
    names = ("engine", *models)
    means = {name: {part: RankingMeans(k) for part in ("all", "repeat", "new")} for name in names}
    shown: dict[str, set[str]] = {name: set() for name in names}
    bought: dict[str, set[str]] = {}  # user -> items bought so far
    catalogue: set[str] = set()
    n_events = 0
    for event in events:
        n_events += 1
        user = event.user_id
        items = list(dict.fromkeys(line.item_id for line in event.lines))
        history = bought.get(user)
        placed = event.type == "order_placed"
        if placed and history and items:
            relevant = set(items)
            repeat = {i for i in items if i in history}
            new = relevant - repeat
            recs = {"engine": engine.recommend(user, k)}
            for name, model in models.items():
                recs[name] = model.recommend(user, k)
            for name, rec in recs.items():
                m = means[name]
                m["all"].add(rec, relevant)
                m["repeat"].add(rec, repeat)
                m["new"].add(rec, new)
                shown[name].update(rec[:k])
        engine.process(event)
        if placed and items:
            bought.setdefault(user, set()).update(items)
            catalogue.update(items)
            for model in models.values():
                model.learn(user, items, event.ts)
    n = len(catalogue)
    blocks = {name: _metric_block(means[name], shown[name], n, "recs_") for name in names}
    return {
        "dataset": "instacart",
        "k": k,
        "n_orders": means["engine"]["all"].n,
        "n_events": n_events,
        "n_users": len(bought),
        "n_items": n,
        "metrics": blocks.pop("engine"),
        "baselines": blocks,
    }


def evaluate(
    engine: Engine | None = None,
    k: int = 10,
    max_users: int | None = None,
    recs: RecsConfig | None = None,
    baselines: dict[str, Baseline] | None = None,
) -> dict[str, Any]:
    """Prequential run on the Instacart sample (``max_users``: first users by id only).

    Without an engine, the whole :class:`Processor` runs with ``recs`` (default: the
    default :class:`RecsConfig`, which learns repeat vs discovery by itself).
    """
    if engine is None:
        engine = Processor(EngineConfig(recs=recs or RecsConfig(), track_quality=False))
    result = prequential(engine, dataset.events(max_users=max_users), k, baselines)
    result["max_users"] = max_users
    return result
