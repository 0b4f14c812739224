"""A deterministic simulated shop: one merged, event-time ordered stream with ground truth.

Who each customer is (type, signup, churn time, demographics) is decided at
construction, so :attr:`Shop.truth` is there before any event. Events are then
generated lazily: a heap holds each customer's next session start, and a small
heap of pending records (the sessions in flight plus delayed cancels and
returns) is released once no future session can start earlier. Memory is a
few hundred bytes per customer, whatever the number of events.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson

from insight_stream.events.timestamps import iso
from insight_stream.sim.catalog import CATALOGUES, Catalog
from insight_stream.sim.config import SimConfig
from insight_stream.sim.customers import (
    Customer,
    draw_demographics,
    draw_staples,
    type_category_tables,
)
from insight_stream.sim.malformed import corrupt
from insight_stream.sim.sessions import CLICKSTREAM, ORDERS, SessionWriter
from insight_stream.sim.truth import GroundTruth, UserTruth
from insight_stream.sim.types import world_types

_DAY_MS = 86_400_000

TOPICS: tuple[str, str] = (CLICKSTREAM, ORDERS)
SIGNUP_SPAN = 0.3
"""Customers sign up over this first share of the window."""
CHURN_MIN_TENURE = 0.15
"""A churner stays at least this share of their remaining window after signup."""
CHURN_QUIET_TAIL = 0.25
"""No one churns in this last share of the window, so churners have time to go quiet."""


def _dumps(event: dict[str, object]) -> bytes:
    """``orjson.dumps`` copied to its exact size: orjson 3.12+ hands back bytes inside a
    buffer of at least 4 KiB (tracemalloc: 4,097 B for a 160 B event), so a bench chunk of
    200k simulated events held ~800 MB instead of ~40 MB."""
    return bytes(memoryview(orjson.dumps(event)))


class Shop:
    """A simulated e-commerce shop with known customer types, churn, complements and staples.

    Examples
    --------
    >>> shop = Shop(SimConfig(users=20, days=14, seed=1))
    >>> len(shop.truth.users), shop.truth.types[0]
    (20, 'high_value_loyal')
    >>> stream = list(shop.events())
    >>> {topic for topic, _ in stream} <= {"clickstream", "orders"}
    True
    >>> stream == list(Shop(SimConfig(users=20, days=14, seed=1)).events())
    True
    """

    def __init__(self, config: SimConfig | None = None) -> None:
        self.config = cfg = config if config is not None else SimConfig()
        start_ms, end_ms = cfg.window_ms()
        kind_of_shop = CATALOGUES[cfg.catalogue]
        self.catalog = Catalog(
            cfg.items, cfg.categories, random.Random(f"{cfg.seed}:catalog"), kind_of_shop["zipf"]
        )
        rng = random.Random(f"{cfg.seed}:customers")
        types = world_types(cfg.n_types)
        tables = type_category_tables(self.catalog.category_weight, rng, len(types))
        shares = [t.share for t in types]
        fade_ms = int(cfg.churn_fade_days * _DAY_MS) if cfg.churn == "gradual" else 0
        span = end_ms - start_ms
        bias = cfg.churn_bias
        bias_rng = random.Random(f"{cfg.seed}:bias")
        self.customers: list[Customer] = []
        users: dict[str, UserTruth] = {}
        for index in range(cfg.users):
            type_index = rng.choices(range(len(types)), weights=shares)[0]
            kind = types[type_index]
            signup = start_ms + int(rng.random() * SIGNUP_SPAN * span)
            churn_ts = None
            if rng.random() < kind.churn_share:
                lo = signup + int(CHURN_MIN_TENURE * (end_ms - signup))
                hi = end_ms - int(CHURN_QUIET_TAIL * span)
                if lo < hi:
                    churn_ts = lo + int(rng.random() * (hi - lo))
            demo = draw_demographics(kind, rng) if rng.random() < cfg.demographics_share else None
            if bias is not None and churn_ts is None and demo and demo.get(bias[0]) == bias[1]:
                lo = signup + int(CHURN_MIN_TENURE * (end_ms - signup))
                hi = end_ms - int(CHURN_QUIET_TAIL * span)
                if bias_rng.random() < bias[2] and lo < hi:
                    churn_ts = lo + int(bias_rng.random() * (hi - lo))
            limit = churn_ts if churn_ts is not None else end_ms
            if fade_ms and churn_ts is not None:
                limit = min(end_ms, churn_ts + fade_ms)
            customer = Customer(
                index,
                type_index,
                signup,
                limit,
                rng,
                tables[type_index],
                cfg.categories,
                demo,
                kind_of_shop["returns"],
            )
            gone = None
            if fade_ms and churn_ts is not None:
                customer.fade_start, customer.fade_ms = churn_ts, fade_ms
                gone = limit
            self.customers.append(customer)
            users[customer.uid] = UserTruth(kind.name, churn_ts, signup, demo, gone)
        cat = self.catalog
        self._tables = tables
        # Staples come from their own stream, so the population above is the same
        # whatever the staple settings.
        staple_rng = random.Random(f"{cfg.seed}:staples")
        for customer in self.customers:
            draw_staples(
                customer, cat.pick, staple_rng, kind_of_shop["staples"], kind_of_shop["rebuy"]
            )
        self._tastes = [(c.cat_cum, c.favs, c.staples, c.rebuy) for c in self.customers]
        self.truth = GroundTruth(
            users=users,
            types=[t.name for t in types],
            complements=[(cat.item_ids[a], cat.item_ids[b]) for a, b in cat.pairs],
            items={
                cat.item_ids[i]: (cat.categories[cat.item_cat[i]], cat.item_price[i])
                for i in range(len(cat.item_ids))
            },
            start_ms=start_ms,
            end_ms=end_ms,
            config=cfg.to_json(),
            staples={
                c.uid: [cat.item_ids[i] for i in c.staples] for c in self.customers if c.staples
            },
        )

    def records(self) -> Iterator[tuple[int, str, dict]]:
        """Valid events as ``(ts, topic, event dict)`` in event-time order, before encoding."""
        cfg = self.config
        buy, followup, view = cfg.complement_params()
        writer = SessionWriter(
            self.catalog,
            random.Random(f"{cfg.seed}:behaviour"),
            complement_buy=buy,
            followup=followup,
            followup_days=tuple(cfg.complement_lag_days),
            complement_view=view,
        )
        expo = writer.rng.expovariate
        customers = self.customers
        for c, (cat_cum, favs, staples, rebuy) in zip(customers, self._tastes, strict=True):
            c.cat_cum, c.favs, c.staples, c.rebuy = cat_cum, favs, staples, rebuy
        shock_ms = None if cfg.shock_day is None else cfg.window_ms()[0] + cfg.shock_day * _DAY_MS
        shocked: set[int] = set()
        shock_rng = random.Random(f"{cfg.seed}:shock")
        starts = [(c.signup, c.index) for c in customers]
        heapq.heapify(starts)
        pending: list[tuple[int, int, str, dict]] = []
        push, pop = heapq.heappush, heapq.heappop
        batch: list[tuple[int, str, dict]] = []
        seq = 0
        while starts:
            t0, index = starts[0]
            while pending and pending[0][0] <= t0:
                ts, _, topic, event = pop(pending)
                yield ts, topic, event
            c = customers[index]
            if shock_ms is not None and t0 >= shock_ms and index not in shocked:
                shocked.add(index)
                self._shock(c, shock_rng)
            end = writer.session(c, t0, batch)
            for ts, topic, event in batch:
                seq += 1
                push(pending, (ts, seq, topic, event))
            batch.clear()
            gap = expo(1.0 / c.gap_ms)
            fade = c.fade_start
            if fade is not None and end > fade:
                # A fading churner: the visit rate declines linearly to a tenth, then stops.
                gap /= max(0.1, 1.0 - (end - fade) / c.fade_ms)
            nxt = end + 1 + int(gap)
            if nxt < c.limit:
                heapq.heapreplace(starts, (nxt, index))
            else:
                pop(starts)
        while pending:
            ts, _, topic, event = pop(pending)
            yield ts, topic, event

    def _shock(self, c: Customer, rng: random.Random) -> None:
        """The planted drift: ``c`` takes the next type's categories, new favourite
        categories and new staples (its visit rhythm and spending stay)."""
        tables = self._tables
        c.cat_cum = tables[(c.type_index + 1) % len(tables)]
        n = self.config.categories
        c.favs = (int(rng.random() * n), int(rng.random() * n))
        kind = CATALOGUES[self.config.catalogue]
        draw_staples(c, self.catalog.pick, rng, kind["staples"], kind["rebuy"])

    def events(self) -> Iterator[tuple[str, bytes]]:
        """The merged stream as ``(topic, raw JSON bytes)``, non-decreasing in event time.

        A ``malformed_rate`` share of records is replaced by junk (counted in
        ``truth.malformed``); an ``iso_ts_share`` of the rest carry ISO-8601 times.
        """
        cfg = self.config
        noise = random.Random(f"{cfg.seed}:noise")
        rand = noise.random
        bad_rate = cfg.malformed_rate
        iso_cut = bad_rate + cfg.iso_ts_share
        truth = self.truth
        truth.malformed = 0
        for ts, topic, event in self.records():
            u = rand()
            if u >= iso_cut:
                yield topic, _dumps(event)
            elif u >= bad_rate:
                yield topic, _dumps({**event, "ts": iso(ts)})
            else:
                truth.malformed += 1
                yield topic, corrupt(event, noise)[1]

    def write(
        self, out_dir: Path | str, progress: Callable[[int], None] | None = None
    ) -> dict[str, int]:
        """Write ``clickstream.jsonl``, ``orders.jsonl`` (event-time order) and ``truth.json``.

        ``progress`` is called with the number of records written since its last
        call (every few thousand). Returns the record count of each file (users
        for ``truth.json``).
        """
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        counts = {CLICKSTREAM: 0, ORDERS: 0}
        step = 0
        with (
            open(out / f"{CLICKSTREAM}.jsonl", "wb") as clicks,
            open(out / f"{ORDERS}.jsonl", "wb") as orders,
        ):
            files = {CLICKSTREAM: clicks.write, ORDERS: orders.write}
            for topic, raw in self.events():
                files[topic](raw + b"\n")
                counts[topic] += 1
                step += 1
                if progress is not None and step == 5000:
                    progress(step)
                    step = 0
        if progress is not None and step:
            progress(step)
        (out / "truth.json").write_bytes(orjson.dumps(self.truth.to_json()))
        return {
            f"{CLICKSTREAM}.jsonl": counts[CLICKSTREAM],
            f"{ORDERS}.jsonl": counts[ORDERS],
            "truth.json": len(self.truth.users),
        }
