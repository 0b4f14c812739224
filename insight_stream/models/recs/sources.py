"""The discovery ranking's terms, kept apart so each item's reason names its source.

:func:`discovery` adds, into one score dict, every term of the non-repeat sources
(popularity, favourite categories, and the three co-occurrence reaches from the
user's seeds) and remembers the terms in a :class:`Scored`; :func:`reason_of`
then names an item's largest single term, so the reason always matches what put
the item in the list.
"""

from __future__ import annotations

import math
from array import array
from typing import TYPE_CHECKING

from insight_stream.models.recs.cooccurrence import top_k

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from insight_stream.models.recs.recommender import Recommender
    from insight_stream.models.recs.user import RecsUser

BASKET, SESSION, FOLLOW = 0, 1, 2
"""Co-occurrence reaches: same basket, same session, same user later."""
VERBS = ("bought with ", "viewed with ", "bought after ")
CATEGORY_REASON = "popular in {}, one of your favourite categories"
Seed = tuple[int, str, float, tuple[str, ...], array]
"""(reach, seed item, seed weight, neighbour ids, similarities)."""


class Scored:
    """Scores of one discovery ranking and the terms that made them.

    >>> s = Scored({"b": 0.5}, [(BASKET, "a", 1.0, ("b",), array("f", [0.5]))], [], None, {}, 0.0)
    >>> reason_of("b", s)
    ('bought with a', 'a')
    """

    __slots__ = (
        "_by_seed",
        "cats",
        "global_top",
        "global_w",
        "pw",
        "scores",
        "seeds",
        "segment_top",
    )

    def __init__(
        self,
        scores: dict[str, float],
        seeds: list[Seed],
        cats: list[tuple[float, dict[str, float], str]],
        segment_top: dict[str, float] | None,
        global_top: dict[str, float],
        pw: float,
    ) -> None:
        self.scores = scores
        self.seeds = seeds
        self.cats = cats
        self.segment_top = segment_top
        self.global_top = global_top
        self.pw = pw
        self.global_w = 0.5 * pw if segment_top else pw
        self._by_seed: dict[str, tuple[float, int, str]] | None = None

    def by_seed(self, items: Iterable[str] | None = None) -> dict[str, tuple[float, int, str]]:
        """Per item, its largest seed term as ``(term, reach, seed)``, the first seed on
        ties; built once, on the first reason asked. ``items`` (the ones a list will
        show) limits the pass to them: a seed is skipped in C when it names none."""
        if self._by_seed is None:
            best: dict[str, tuple[float, int, str]] = {}
            get = best.get
            wanted = None if items is None else set(items)
            for reach, seed, w, ids, sims in self.seeds:
                if wanted is None:
                    pairs: Iterable[tuple[str, float]] = zip(ids, sims, strict=True)
                elif wanted.isdisjoint(ids):
                    continue
                else:  # neighbour ids are unique within a list
                    pairs = [(item, sims[ids.index(item)]) for item in wanted.intersection(ids)]
                for item, sim in pairs:
                    term = w * sim
                    old = get(item)
                    if old is None or term > old[0]:
                        best[item] = (term, reach, seed)
            self._by_seed = best
        return self._by_seed


def discovery(
    rec: Recommender,
    u: RecsUser,
    now_ms: int,
    segment_id: int | None,
    categories: Sequence[tuple[str, float]] | None,
    skip_session: bool = False,
) -> Scored:
    """All non-repeat terms for user ``u`` at ``now_ms`` (held items included: the
    caller drops them for the learned slots). ``skip_session`` leaves the current
    session's items out of the seeds (what the user looked like when it started)."""
    cfg = rec.config
    popular = rec.popular
    pw = cfg.popular_weight
    base = popular.blend(segment_id, pw) if pw > 0.0 else {}
    scores = dict(base)  # segment + global popularity, the same for every user: memoised
    get = scores.get
    cats: list[tuple[float, dict[str, float], str]] = []
    if categories and cfg.category_weight > 0.0:
        shares = rec.by_category.shares
        for category, share in categories:
            top = shares.get(category)
            if top:
                w = cfg.category_weight * share
                cats.append((w, top, category))
                for item, s in top.items():
                    scores[item] = get(item, 0.0) + w * s
    seeds = _seeds(rec, u, now_ms, skip_session)
    for _, _, w, ids, sims in seeds:
        for other, sim in zip(ids, sims, strict=True):
            scores[other] = get(other, 0.0) + w * sim
    segment_top = popular.shares.get(segment_id) if segment_id is not None else None
    return Scored(scores, seeds, cats, segment_top, popular.shares.get(None, {}), pw)


def top_new(scored: Scored, u: RecsUser, k: int) -> list[tuple[str, float]]:
    """The ``k`` best-scored items the user does not hold or (probably) own, best first.

    Ranks only the ``k + len(held)`` best before filtering (at most ``len(held)`` of them
    drop out), and the whole ranking only when ``may_own`` drops more: the same list as
    filtering first, at a fraction of the cost for the usual few held items.

    >>> from insight_stream.models.recs.user import RecsUser
    >>> u = RecsUser(); u.buy(["b"], 0, 1e-9, 5, 5)
    >>> top_new(Scored({"a": 1.0, "b": 3.0, "c": 2.0}, [], [], None, {}, 0.0), u, 2)
    [('c', 2.0), ('a', 1.0)]
    """
    scores = scored.scores
    held, owns = dict.fromkeys(u.bought), u.may_own
    if len(scores) > k + len(held):
        pool = top_k(scores, k + len(held))
        new = [(i, s) for i, s in pool if i not in held and not owns(i)]
        if len(new) >= k:
            return new[:k]
    return top_k({i: s for i, s in scores.items() if i not in held and not owns(i)}, k)


def _seeds(rec: Recommender, u: RecsUser, now_ms: int, skip_session: bool) -> list[Seed]:
    cfg = rec.config
    out: list[Seed] = []
    recent = u.recent
    end = len(recent) - (u.session_n if skip_session else 0)
    if end > 0 and cfg.max_seeds > 0:
        meta, seed_weights = u.recent_meta, cfg.seed_weights
        inv_tau, exp = rec._recent_inv_tau, math.exp
        basket, session = rec.cooc.lists, rec.session.lists
        sw = cfg.session_weight
        for idx in range(end - 1, max(end - cfg.max_seeds, 0) - 1, -1):
            item = recent[idx]
            m = meta[idx]
            age = now_ms - (m >> 2)
            w = seed_weights[m & 3] * (exp(-age * inv_tau) if age > 0 else 1.0)
            if w <= 0.0:
                continue
            entry = basket.get(item)
            if entry is not None:
                out.append((BASKET, item, w, entry[0], entry[1]))
            entry = session.get(item)
            if entry is not None and sw > 0.0:
                out.append((SESSION, item, w * sw, entry[0], entry[1]))
    if cfg.held_seeds > 0 and cfg.held_seed_weight > 0.0:
        # SAR's reach: the user's usual items (decayed purchase counts), however long ago
        # they were last touched, seed the same-basket lists ("bought with X" by others)
        basket, hw = rec.cooc.lists, cfg.held_seed_weight
        for item, share in u.most_bought(cfg.held_seeds, basket):
            entry = basket[item]
            out.append((BASKET, item, hw * share, entry[0], entry[1]))
    if cfg.follow_days > 0.0 and cfg.max_follow_seeds > 0 and cfg.follow_weight > 0.0:
        minute = now_ms // 60_000
        lists, half = rec.follow.lists, cfg.follow_seed_half_life_days * 1440
        fw = cfg.follow_weight
        for item, last in u.newest_bought(cfg.max_follow_seeds, lists):
            entry = lists[item]
            w = fw * 0.5 ** (max(minute - last, 0) / half)
            out.append((FOLLOW, item, w, entry[0], entry[1]))
    return out


def reason_of(item: str, scored: Scored, best: float = 0.0) -> tuple[str, str | None]:
    """``(reason, because_of)`` of ``item``'s largest term (first on ties, in the order
    seeds, segment, global, categories); ``best`` is a rival term (e.g. the repeat
    term) that a winning term must beat, else ``("", None)`` is returned."""
    reason, because = "", None
    term = scored.by_seed().get(item)
    if term is not None and term[0] > best:
        best, reason, because = term[0], VERBS[term[1]] + term[2], term[2]
    pw = scored.pw
    seg = scored.segment_top
    if seg and item in seg and pw * seg[item] > best:
        best, reason, because = pw * seg[item], "popular in your segment", None
    top = scored.global_top
    if item in top and scored.global_w * top[item] > best:
        best, reason, because = scored.global_w * top[item], "popular now", None
    for w, shares_of, cat in scored.cats:
        if item in shares_of and shares_of[item] * w > best:
            best, reason, because = shares_of[item] * w, CATEGORY_REASON.format(cat), None
    return reason, because
