"""Agreement between found segments and true types: ARI and NMI from a contingency table."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Sequence


def _comb2(n: int) -> float:
    return n * (n - 1) / 2.0


def adjusted_rand_index(truth: Sequence[Hashable], found: Sequence[Hashable]) -> float:
    """Hubert & Arabie's adjusted Rand index: 1 = same partition, ~0 = chance.

    >>> adjusted_rand_index([0, 0, 1, 1], [5, 5, 7, 7])
    1.0
    >>> round(adjusted_rand_index([0, 0, 1, 1], [0, 1, 0, 1]), 3)
    -0.5
    """
    if len(truth) != len(found):
        raise ValueError("truth and found must have the same length")
    n = len(truth)
    if n < 2:
        return 1.0
    pairs = Counter(zip(truth, found, strict=True))
    index = sum(_comb2(c) for c in pairs.values())
    a = sum(_comb2(c) for c in Counter(truth).values())
    b = sum(_comb2(c) for c in Counter(found).values())
    expected = a * b / _comb2(n)
    maximum = (a + b) / 2
    if maximum == expected:
        return 1.0
    return (index - expected) / (maximum - expected)


def normalized_mutual_info(truth: Sequence[Hashable], found: Sequence[Hashable]) -> float:
    """NMI with arithmetic-mean normalisation (scikit-learn's default).

    >>> normalized_mutual_info(["a", "a", "b"], [1, 1, 2])
    1.0
    """
    n = len(truth)
    if n == 0:
        return 1.0
    ct = Counter(zip(truth, found, strict=True))
    pt, pf = Counter(truth), Counter(found)
    mi = sum(c / n * math.log(c * n / (pt[t] * pf[f])) for (t, f), c in ct.items())
    ht = -sum(c / n * math.log(c / n) for c in pt.values())
    hf = -sum(c / n * math.log(c / n) for c in pf.values())
    if ht == 0 and hf == 0:
        return 1.0
    denom = (ht + hf) / 2
    return mi / denom if denom > 0 else 0.0
