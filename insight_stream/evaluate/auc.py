"""ROC-AUC from ranks (Mann-Whitney U): exact, O(n log n), ties count one half.

No scikit-learn in the runtime: this is the one metric every churn report needs.
"""

from __future__ import annotations

from collections.abc import Sequence


def roc_auc(labels: Sequence[int | bool], scores: Sequence[float]) -> float:
    """Probability that a random positive scores above a random negative.

    Tied scores get their average rank, so a constant score gives exactly 0.5.
    Returns ``nan`` when one class is missing.

    >>> roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.75
    >>> roc_auc([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5])
    0.5
    >>> roc_auc([1, 0, 1], [0.9, 0.2, 0.2])
    0.75
    >>> roc_auc([1, 1], [0.1, 0.2])
    nan
    """
    if len(labels) != len(scores):
        raise ValueError("labels and scores must have the same length")
    order = sorted(range(len(scores)), key=scores.__getitem__)
    rank_sum = 0.0
    positives = 0
    i = 0
    n = len(order)
    while i < n:
        j = i
        while j + 1 < n and scores[order[j + 1]] == scores[order[i]]:
            j += 1
        mid_rank = (i + j) / 2.0 + 1.0  # 1-based average rank of the tie block
        for k in range(i, j + 1):
            if labels[order[k]]:
                rank_sum += mid_rank
                positives += 1
        i = j + 1
    negatives = n - positives
    if positives == 0 or negatives == 0:
        return float("nan")
    return (rank_sum - positives * (positives + 1) / 2.0) / (positives * negatives)
