"""A later-order complement check: B follows A 1-10 days later, in another order.

A small self-contained synthetic shop (no simulator): ``pairs`` complement pairs
(A, B) and ``fillers`` other items, all with Zipf popularity. Every user places
orders at random intervals; each order holds a few fillers (noise) and, with
probability ``p_start``, the first item A of a pair. With probability ``p_follow``
the user comes back ``1-10`` days later with an order that holds its complement B
(and maybe a filler). Nobody buys an item twice: a discovery shop, where a good
model recommends new items only.

**Complement recovery** is the share of cases "the user bought A and not yet B"
whose top 10, taken at the user's next order event (before the model learns it),
contains B; each (user, pair) is scored once, after ``warmup_days``. The engine
(the whole Processor) and the SAR and popularity baselines are scored on the
same cases in the same pass; so is the usual next-order HR/NDCG@10, and the
share of top-10 slots that hold items the user already has.

**Final complement recovery** is the same question asked once, at the end of the
window, of every user who holds A and not B (however long ago A was bought): the
share whose final top 10 holds B (:func:`~insight_stream.evaluate.sar.complement_recovery`,
the simulator sweep's measure). It rewards remembering old purchases, where the
per-order measure rewards timing.

>>> world = ComplementWorld(users=40, days=30, seed=1)
>>> evs = list(world.events())
>>> all(a.ts <= b.ts for a, b in zip(evs, evs[1:])), evs[0].type
(True, 'order_placed')
"""

from __future__ import annotations

import bisect
import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from insight_stream.evaluate.baselines import SAR, Baseline, Popularity
from insight_stream.evaluate.instacart import Engine
from insight_stream.evaluate.ranking import RankingMeans
from insight_stream.evaluate.sar import complement_recovery
from insight_stream.events import OrderEvent, OrderLine
from insight_stream.models.recs import RecsConfig
from insight_stream.processor import EngineConfig, Processor

EPOCH_MS = 1_700_000_000_000
DAY_MS = 86_400_000


@dataclass(frozen=True)
class ComplementWorld:
    """Settings of the synthetic complement shop (deterministic for a seed)."""

    users: int = 3000
    days: int = 120
    seed: int = 7
    pairs: int = 300
    fillers: int = 3000
    zipf: float = 1.1
    mean_gap_days: float = 6.0
    p_start: float = 0.5
    p_follow: float = 0.8
    fillers_per_order: tuple[int, int] = (1, 3)
    warmup_days: int = 20

    def _sampler(self, n: int, rng: random.Random) -> list[float]:
        weights = [1.0 / (r + 1) ** self.zipf for r in range(n)]
        return list(itertools.accumulate(weights))

    def complement_of(self) -> dict[str, str]:
        """``{A: B}`` for every pair."""
        return {f"a{n}": f"b{n}" for n in range(self.pairs)}

    def events(self) -> Iterator[OrderEvent]:
        """Every order of every user, in event-time order."""
        rng = random.Random(self.seed)
        pair_cum = self._sampler(self.pairs, rng)
        fill_cum = self._sampler(self.fillers, rng)
        horizon = self.days * DAY_MS
        orders: list[tuple[int, str, list[str]]] = []
        for n in range(self.users):
            user, owned = f"c{n}", set()

            def draw(cum: list[float], prefix: str, owned: set[str] = owned) -> str | None:
                for _ in range(10):
                    x = rng.random() * cum[-1]
                    item = f"{prefix}{bisect.bisect_left(cum, x)}"
                    if item not in owned:
                        return item
                return None

            t = rng.random() * self.mean_gap_days * DAY_MS
            follow: list[tuple[int, str]] = []
            while t < horizon:
                basket = []
                for _ in range(rng.randint(*self.fillers_per_order)):
                    item = draw(fill_cum, "f")
                    if item is not None and item not in basket:
                        basket.append(item)
                if rng.random() < self.p_start:
                    a = draw(pair_cum, "a")
                    if a is not None:
                        basket.append(a)
                        if rng.random() < self.p_follow:
                            delay = rng.uniform(1.0, 10.0) * DAY_MS
                            follow.append((int(t + delay), "b" + a[1:]))
                owned.update(basket)
                if basket:
                    orders.append((int(t), user, basket))
                t += rng.expovariate(1.0 / (self.mean_gap_days * DAY_MS))
            for ts, b in follow:
                if ts < horizon and b not in owned:
                    owned.add(b)
                    extra = draw(fill_cum, "f") if rng.random() < 0.5 else None
                    orders.append((ts, user, [b] + ([extra] if extra else [])))
        orders.sort(key=lambda o: (o[0], o[1]))
        for n, (ts, user, basket) in enumerate(orders):
            yield OrderEvent(
                event_id=f"cw-{n}",
                user_id=user,
                type="order_placed",
                order_id=f"cw-o{n}",
                ts=EPOCH_MS + ts,
                total=float(len(basket)),
                lines=[OrderLine(item_id=i, category=i[0], price=1.0) for i in basket],
            )


def evaluate_complements(
    world: ComplementWorld | None = None,
    engine: Engine | None = None,
    recs: RecsConfig | None = None,
    k: int = 10,
) -> dict[str, Any]:
    """Run the shop through the engine and the baselines; return the report dict."""
    world = world or ComplementWorld()
    if engine is None:
        engine = Processor(EngineConfig(recs=recs or RecsConfig(), track_quality=False))
    models: dict[str, Baseline] = {"sar": SAR(remove_seen=True), "popularity": Popularity(k)}
    names = ("engine", *models)
    complement = world.complement_of()
    pending: dict[str, set[str]] = {}  # user -> complements B owed (bought A, not yet B)
    owned: dict[str, set[str]] = {}
    hits = dict.fromkeys(names, 0)
    repeat_slots = dict.fromkeys(names, 0)
    slots = dict.fromkeys(names, 0)
    means = {name: RankingMeans(k) for name in names}
    cases = n_events = 0
    start = EPOCH_MS + world.warmup_days * DAY_MS
    for event in world.events():
        n_events += 1
        user = event.user_id
        items = [line.item_id for line in event.lines]
        have = owned.setdefault(user, set())
        owed = pending.pop(user, set())
        scored = bool(have) and event.ts >= start
        if scored:
            recs = {"engine": engine.recommend(user, k)}
            recs.update({name: m.recommend(user, k) for name, m in models.items()})
            for name, rec in recs.items():
                means[name].add(rec, set(items))
                slots[name] += len(rec)
                repeat_slots[name] += sum(i in have for i in rec)
                hits[name] += sum(b in rec for b in owed)
            cases += len(owed)
        engine.process(event)
        for model in models.values():
            model.learn(user, items, event.ts)
        have.update(items)
        owed = set() if scored else {b for b in owed if b not in have}
        owed.update(complement[i] for i in items if i in complement and complement[i] not in have)
        if owed:
            pending[user] = owed

    pairs = list(complement.items())
    final = {"engine": {u: engine.recommend(u, k) for u in owned}}
    final.update({name: {u: m.recommend(u, k) for u in owned} for name, m in models.items()})
    final_recovery = {name: complement_recovery(owned, pairs, tops) for name, tops in final.items()}

    def block(name: str) -> dict[str, float]:
        out = {"complement_recovery": hits[name] / cases if cases else 0.0}
        out["final_complement_recovery"] = final_recovery[name][0]
        out.update(means[name].as_dict("recs_"))
        out["repeat_slot_share"] = repeat_slots[name] / slots[name] if slots[name] else 0.0
        return out

    return {
        "dataset": f"complements(users={world.users}, days={world.days}, seed={world.seed})",
        "k": k,
        "n_events": n_events,
        "n_cases": cases,
        "n_final_cases": final_recovery["engine"][1],
        "metrics": block("engine"),
        "baselines": {name: block(name) for name in models},
    }
