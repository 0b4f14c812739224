"""One shopping session of one customer: clicks, then maybe an order, its cancel or return.

A buying session first plans what the customer came back for: each of their
staples with their ``rebuy`` probability, and complements of earlier purchases
that fell due (accessory follow-ups, ``FOLLOWUP``); planned items are viewed and
carted among the other views and take slots of the basket, so basket sizes and
conversion stay those of the customer's type.

This is the simulator's hot path, so events are plain dicts built from
precomputed tables and one shared ``random.Random``; the caller merges the
sessions of all customers into one event-time ordered stream.
"""

from __future__ import annotations

import random
from bisect import bisect

from insight_stream.sim.catalog import Catalog
from insight_stream.sim.customers import Customer

CLICKSTREAM = "clickstream"
ORDERS = "orders"

COMPLEMENT_BUY = 0.65
"""Chance that a bought item's complement is added to the basket at checkout."""
COMPLEMENT_VIEW = 0.3
"""Chance that viewing an item with a complement leads to viewing the complement."""
FOLLOWUP = 0.5
"""Chance that a bought item's complement, when not added at checkout, is bought in a
later session (an accessory follow-up), once ``FOLLOWUP_DAYS`` have passed."""
FOLLOWUP_DAYS = (2.0, 14.0)
"""Range (uniform) of the delay before a follow-up complement is due."""
FOLLOWUP_EXPIRY_DAYS = 30.0
"""A due follow-up not bought within this many days is forgotten."""
_REMOVE = 0.08
_WISHLIST = 0.04
_CLICK_GAP_MS = 35_000.0
_MIN = 60_000
_HOUR = 3_600_000
_DAY = 86_400_000
_COUPONS = (("SAVE10", 0.10), ("WELCOME15", 0.15), ("SAVE20", 0.20))
_QUERY_WORDS = (("cheap", "sale", "discount"), ("", "new", "top"), ("best", "premium", "luxury"))

Record = tuple[int, str, dict]
"""``(ts, topic, event dict)``; ``ts`` is epoch ms and equals ``event["ts"]``."""


class SessionWriter:
    """Writes the events of sessions; numbers sessions and orders deterministically.

    Examples
    --------
    >>> from insight_stream.sim.customers import type_category_tables
    >>> rng = random.Random(0)
    >>> cat = Catalog(100, 5, rng)
    >>> table = type_category_tables(cat.category_weight, rng)[0]
    >>> c = Customer(1, 0, 0, 2 * 10**12, rng, table, 5, None)
    >>> out: list[Record] = []
    >>> end = SessionWriter(cat, rng).session(c, 1_700_000_000_000, out)
    >>> out[0][2]["session_id"], [r[0] for r in out] == sorted(r[0] for r in out)
    ('s0000000', True)
    """

    def __init__(
        self,
        catalog: Catalog,
        rng: random.Random,
        complement_buy: float = COMPLEMENT_BUY,
        followup: float = FOLLOWUP,
        followup_days: tuple[float, float] = FOLLOWUP_DAYS,
        complement_view: float = COMPLEMENT_VIEW,
    ) -> None:
        self.catalog = catalog
        self.rng = rng
        self.complement_buy = complement_buy
        self.followup = followup
        self.followup_days = followup_days
        self.complement_view = complement_view
        self.sessions = 0
        self.orders = 0
        self._ids = catalog.item_ids
        self._cat_names = [catalog.categories[c] for c in catalog.item_cat]
        self._prices = catalog.item_price

    def _item_fields(self, d: dict, item: int) -> dict:
        d["item_id"] = self._ids[item]
        d["category"] = self._cat_names[item]
        d["price"] = self._prices[item]
        return d

    def session(self, c: Customer, t: int, out: list[Record]) -> int:
        """Append one session starting at ``t`` (and its order follow-ups) to ``out``.

        Records at or after the customer's ``limit`` (churn time or window end)
        are not written. Returns the time of the last click or order of the session.
        """
        rng = self.rng
        rand = rng.random
        expo = rng.expovariate
        gamma = rng.gammavariate
        cat = self.catalog
        comp = cat.complement
        buckets = cat.bucket_table
        item_fields = self._item_fields
        complement_view, complement_buy = self.complement_view, self.complement_buy
        followup = self.followup
        cat_cum = c.cat_cum
        n_cat = len(cat_cum)
        uid = c.uid
        sid = f"s{self.sessions:07d}"
        self.sessions += 1
        recs: list[Record] = []
        k = 0

        def click(kind: str, ts: int) -> dict:
            nonlocal k
            d = {
                "event_id": f"{sid}-{k}",
                "user_id": uid,
                "session_id": sid,
                "type": kind,
                "ts": ts,
            }
            k += 1
            recs.append((ts, CLICKSTREAM, d))
            return d

        def pick(category: int, tier: int) -> int:
            members, cum = buckets[category][tier]
            i = bisect(cum, rand() * cum[-1])
            return members[i if i < len(members) else -1]

        def taste() -> int:
            if rand() < 0.3:
                return c.favs[0] if rand() < 0.6 else c.favs[1]
            i = bisect(cat_cum, rand())
            return i if i < n_cat else n_cat - 1

        def tier_pick() -> int:
            u = rand()
            tc = c.tier_cum
            return 0 if u < tc[0] else (1 if u < tc[1] else 2)

        if rand() < c.login:
            d = click("login", t)
            if c.demo:
                d.update(c.demo)
            t += 1000 + int(expo(1 / 5000))
        d = click("page_view", t)
        if c.demo:
            d.update(c.demo)

        # Gamma counts (shape 3): a user's sessions vary, but less than geometric ones would.
        n_views = max(1, round(gamma(3.0, c.views_m / 3.0)))
        buying = rand() < c.conversion
        target = max(1, round(gamma(3.0, c.basket_m / 3.0))) if buying else 0
        if target > n_views:
            n_views = target
        cart: list[int] = []
        # Planned items of a buying session: staples rebought, complements followed up.
        plan: list[int] = []
        followed: set[int] = set()
        if buying:
            rebuy = c.rebuy
            for item in c.staples:
                if rand() < rebuy:
                    plan.append(item)
            if c.followups:
                kept = []
                expiry = FOLLOWUP_EXPIRY_DAYS * _DAY
                for due, item in c.followups:
                    if due > t:
                        kept.append((due, item))
                    elif t - due < expiry and item not in plan:
                        plan.append(item)
                        followed.add(item)
                c.followups = kept
            if len(plan) > target:
                del plan[target:]
        views_left = n_views
        while views_left > 0:
            t += 1000 + int(expo(1.0 / _CLICK_GAP_MS))
            planned = -1
            if plan and rand() * views_left < len(plan):
                planned = plan.pop()
                category, tier = cat.item_cat[planned], cat.item_tier[planned]
            else:
                category, tier = taste(), tier_pick()
            u = rand()
            if u < c.search:
                words = _QUERY_WORDS[tier]
                word = words[int(rand() * 3)]
                q = f"{word} {cat.categories[category]}" if word else cat.categories[category]
                click("search", t)["query"] = q
                t += 1000 + int(expo(1.0 / _CLICK_GAP_MS))
            elif u < c.search + 0.05:
                click("page_view", t)["category"] = cat.categories[category]
                t += 1000 + int(expo(1.0 / _CLICK_GAP_MS))
            item = planned if planned >= 0 else pick(category, tier)
            item_fields(click("product_view", t), item)
            views_left -= 1
            partner = comp.get(item)
            if partner is not None and rand() < complement_view:
                t += 1000 + int(expo(1.0 / _CLICK_GAP_MS))
                item_fields(click("product_view", t), partner)
            if rand() < _WISHLIST:
                t += 1000 + int(expo(1.0 / 8000))
                item_fields(click("wishlist", t), item)
            if planned >= 0:
                if item not in cart:
                    t += 1000 + int(expo(1.0 / 15000))
                    item_fields(click("add_to_cart", t), item)
                    cart.append(item)
                continue
            wanted = target - len(cart) - len(plan)
            p_add = wanted / (views_left + 1) if buying else c.view_cart
            if item not in cart and rand() < p_add:
                t += 1000 + int(expo(1.0 / 15000))
                item_fields(click("add_to_cart", t), item)
                cart.append(item)
                if rand() < _REMOVE:
                    t += 1000 + int(expo(1.0 / _CLICK_GAP_MS))
                    item_fields(click("remove_from_cart", t), item)
                    cart.pop()
                    views_left += buying  # a buyer keeps looking for a replacement

        if buying and cart:
            later = []
            for item in list(cart):
                partner = comp.get(item)
                if partner is None or partner in cart or item in followed:
                    continue
                if rand() < complement_buy:
                    t += 1000 + int(expo(1.0 / 10000))
                    item_fields(click("product_view", t), partner)
                    t += 1000 + int(expo(1.0 / 8000))
                    item_fields(click("add_to_cart", t), partner)
                    cart.append(partner)
                elif rand() < followup:
                    later.append(partner)
            t += 5000 + int(expo(1.0 / 60000))
            lo, hi = self.followup_days
            for partner in later:
                c.followups.append((t + int((lo + rand() * (hi - lo)) * _DAY), partner))
            self._order(c, t, cart, recs)

        limit = c.limit
        for r in recs:
            if r[0] < limit:
                out.append(r)
        return t

    def _order(self, c: Customer, t: int, cart: list[int], recs: list[Record]) -> None:
        rand = self.rng.random
        ids, names, prices = self._ids, self._cat_names, self._prices
        oid = f"o{self.orders:07d}"
        self.orders += 1
        lines = []
        gross = 0.0
        for item in cart:
            u = rand()
            qty = 1 if u < 0.85 else (2 if u < 0.97 else 3)
            price = prices[item]
            gross += price * qty
            lines.append(
                {"item_id": ids[item], "category": names[item], "price": price, "quantity": qty}
            )
        coupon, discount = _COUPONS[int(rand() * 3)] if rand() < c.coupon else (None, 0.0)
        total = round(gross * (1.0 - discount), 2)
        placed = {
            "event_id": f"{oid}-p",
            "order_id": oid,
            "user_id": c.uid,
            "type": "order_placed",
            "ts": t,
            "lines": lines,
            "total": total,
            "currency": "USD",
            "coupon": coupon,
        }
        recs.append((t, ORDERS, placed))
        if rand() < c.cancel:
            ts = t + 10 * _MIN + int(rand() * 12 * _HOUR)
            recs.append(
                (
                    ts,
                    ORDERS,
                    {**placed, "event_id": f"{oid}-c", "type": "order_cancelled", "ts": ts},
                )
            )
        elif rand() < c.returns:
            ts = t + 2 * _DAY + int(rand() * 19 * _DAY)
            back = lines if len(lines) == 1 or rand() < 0.5 else [x for x in lines if rand() < 0.5]
            if not back:
                back = lines[:1]
            refund = round(sum(x["price"] * x["quantity"] for x in back) * (1.0 - discount), 2)
            recs.append(
                (
                    ts,
                    ORDERS,
                    {
                        **placed,
                        "event_id": f"{oid}-r",
                        "type": "order_returned",
                        "ts": ts,
                        "lines": back,
                        "total": refund,
                    },
                )
            )
