"""Top-k ranking metrics with binary relevance: HR@k, Recall@k, NDCG@k.

Definitions (``rec`` a ranked list, ``rel`` the set of items actually bought):

* HR@k: 1 if any of the first k recommended items is relevant, else 0;
* Recall@k: |top k ∩ rel| / |rel|;
* NDCG@k: sum over hits at rank r (0-based) of 1/log2(r + 2), divided by the
  same sum for a perfect list, which has min(|rel|, k) hits at the top.

Duplicates in ``rec`` count once (at their first rank).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence

_DISCOUNT = [1.0 / math.log2(r + 2) for r in range(256)]


def _discount(rank: int) -> float:
    return _DISCOUNT[rank] if rank < len(_DISCOUNT) else 1.0 / math.log2(rank + 2)


def _hits(rec: Sequence[str], rel: Collection[str], k: int) -> list[int]:
    seen: set[str] = set()
    ranks = []
    for rank, item in enumerate(rec[:k]):
        if item in rel and item not in seen:
            ranks.append(rank)
        seen.add(item)
    return ranks


def hit_rate(rec: Sequence[str], rel: Collection[str], k: int = 10) -> float:
    """1.0 when some relevant item is in the top ``k``.

    >>> hit_rate(["a", "b", "c"], {"c"}, k=3), hit_rate(["a", "b", "c"], {"c"}, k=2)
    (1.0, 0.0)
    """
    return 1.0 if _hits(rec, rel, k) else 0.0


def recall(rec: Sequence[str], rel: Collection[str], k: int = 10) -> float:
    """Share of the relevant items found in the top ``k`` (0 when nothing is relevant).

    >>> recall(["a", "b", "c"], {"a", "c", "z", "y"}, k=3)
    0.5
    """
    return len(_hits(rec, rel, k)) / len(rel) if rel else 0.0


def ndcg(rec: Sequence[str], rel: Collection[str], k: int = 10) -> float:
    """Normalised discounted cumulative gain with binary relevance.

    >>> ndcg(["a", "b"], {"a"}, k=2), round(ndcg(["b", "a"], {"a"}, k=2), 4)
    (1.0, 0.6309)
    >>> ndcg(["x", "y"], {"a"}, k=2), ndcg([], set(), k=2)
    (0.0, 0.0)
    """
    if not rel:
        return 0.0
    dcg = sum(_discount(r) for r in _hits(rec, rel, k))
    ideal = sum(_discount(r) for r in range(min(len(rel), k)))
    return dcg / ideal


class RankingMeans:
    """Running means of HR@k, Recall@k and NDCG@k over evaluated cases.

    >>> m = RankingMeans(k=2)
    >>> m.add(["a", "b"], {"a"})
    >>> m.add(["x", "y"], {"a", "b"})
    >>> m.n, m.as_dict("recs_")
    (2, {'recs_hr_at_2': 0.5, 'recs_recall_at_2': 0.5, 'recs_ndcg_at_2': 0.5})
    """

    __slots__ = ("hr", "k", "n", "ndcg", "recall")

    def __init__(self, k: int = 10) -> None:
        self.k = k
        self.n = 0
        self.hr = self.recall = self.ndcg = 0.0

    def add(self, rec: Sequence[str], rel: Collection[str]) -> None:
        """Score one case; cases with no relevant item are skipped."""
        if not rel:
            return
        k = self.k
        ranks = _hits(rec, rel, k)
        self.n += 1
        self.hr += 1.0 if ranks else 0.0
        self.recall += len(ranks) / len(rel)
        if ranks:
            ideal = sum(_discount(r) for r in range(min(len(rel), k)))
            self.ndcg += sum(_discount(r) for r in ranks) / ideal

    def as_dict(self, prefix: str = "", suffix: str = "") -> dict[str, float]:
        """The means as ``{prefix}hr_at_{k}{suffix}``, ... (0.0 when nothing was scored)."""
        n = self.n or 1
        k = self.k
        return {
            f"{prefix}hr_at_{k}{suffix}": self.hr / n,
            f"{prefix}recall_at_{k}{suffix}": self.recall / n,
            f"{prefix}ndcg_at_{k}{suffix}": self.ndcg / n,
        }
