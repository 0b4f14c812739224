import random

import pytest

from insight_stream.evaluate.auc import roc_auc


def brute_force(labels: list[int], scores: list[float]) -> float:
    pos = [s for s, y in zip(scores, labels, strict=True) if y]
    neg = [s for s, y in zip(scores, labels, strict=True) if not y]
    wins = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


def test_matches_pairwise_definition_with_many_ties() -> None:
    rng = random.Random(1)
    for _ in range(20):
        labels = [rng.random() < 0.3 for _ in range(60)]
        labels[0], labels[1] = True, False
        scores = [float(rng.randint(0, 5)) for _ in range(60)]
        assert roc_auc(labels, scores) == pytest.approx(brute_force(labels, scores))


def test_perfect_inverted_and_length_mismatch() -> None:
    assert roc_auc([0, 0, 1], [1, 2, 3]) == 1.0
    assert roc_auc([0, 0, 1], [3, 2, 1]) == 0.0
    with pytest.raises(ValueError):
        roc_auc([0, 1], [0.5])
