"""Online customer segments: river's KMeans on standardised profile features.

* Warm-up: the latest feature vectors of the first ``warmup_users`` users with
  enough history are collected; they fix the standardisation (mean, std) and seed
  the centres with k-means++ and Lloyd passes (river's default random start
  leaves clusters empty).
* Then each learning event moves one centre (``learn_predict_one``). Ids are the
  centre indices and are never renumbered, so consumers can key on them.
* Learning happens only on events that change the clustering features in a way
  worth learning (the Processor calls :meth:`learn` on orders and new sessions);
  assignment (:meth:`predict`) is done when a profile is published.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
from river.cluster import KMeans
from scipy.optimize import linear_sum_assignment

from insight_stream.models.profile import DAY_MS, ProfileState
from insight_stream.models.segments.features import (
    N_FEATURES,
    WEIGHTS,
    raw_features,
    transform,
    untransform,
)
from insight_stream.models.segments.portraits import describe, name_segments
from insight_stream.models.segments.seeding import kmeans_pp, lloyd

RESEED_SAMPLE = 20_000  # rows searched by a fresh k-means++ at refit time
RESEED_GAIN = 0.95  # adopt the fresh centres only when inertia drops by > 5 %


@dataclass(frozen=True)
class SegmentConfig:
    """Segment settings.

    Parameters
    ----------
    k
        Number of segments (``insight-stream segments tune`` helps choose).
    warmup_users
        Distinct users collected before seeding the centres.
    min_sessions
        Users with fewer sessions are assigned but do not move the centres.
    halflife
        How far a centre moves towards each learning point (river's ``halflife``).
    seed
        Seed of the k-means++ start.
    refit_every_days
        Event-time period of the batch refinement: the standardisation is
        re-estimated on every mature user's current features and the centres
        take a few Lloyd steps *starting from where they are*, so each id keeps
        its meaning while the online updates' drift and the early, immature
        warm-up sample are corrected. 0 disables it.
    refit_iters
        Lloyd steps per refinement.
    """

    k: int = 5
    warmup_users: int = 200
    min_sessions: int = 5
    halflife: float = 0.01
    seed: int = 42
    refit_every_days: float = 14.0
    refit_iters: int = 10

    def __post_init__(self) -> None:
        if self.k < 1:
            raise ValueError("segments.k must be >= 1")
        if self.warmup_users < self.k:
            raise ValueError("segments.warmup_users must be >= segments.k")
        if not 0 < self.halflife <= 1:
            raise ValueError("segments.halflife must be in (0, 1]")
        if self.refit_every_days < 0:
            raise ValueError("segments.refit_every_days must be >= 0")


class Segmenter:
    """Warm-up, then incremental KMeans with stable ids and readable portraits."""

    def __init__(self, config: SegmentConfig | None = None) -> None:
        self.config = config or SegmentConfig()
        self.km: KMeans | None = None
        self.mean: list[float] = [0.0] * N_FEATURES
        self.std: list[float] = [1.0] * N_FEATURES
        self._warm: dict[str, list[float]] = {}
        self.learned = 0
        self.seeded_at: int | None = None
        self.refitted_at: int | None = None
        self.refits = 0
        self.reseeds = 0
        self._portraits: dict[int, dict[str, object]] | None = None

    @property
    def ready(self) -> bool:
        return self.km is not None

    def _z(self, p: ProfileState) -> dict[int, float]:
        t = transform(raw_features(p))
        mean, std, w = self.mean, self.std, WEIGHTS
        return {i: (t[i] - mean[i]) / std[i] * w[i] for i in range(N_FEATURES)}

    def learn(self, user_id: str, p: ProfileState, now: int) -> int | None:
        """Fold one user's current features in; returns the segment it moved (or None)."""
        if p.sessions < self.config.min_sessions:
            return None
        if self.km is None:
            self._warm[user_id] = transform(raw_features(p))
            if len(self._warm) >= self.config.warmup_users:
                self._seed(now)
            return None
        self.learned += 1
        self._portraits = None
        return self.km.learn_predict_one(self._z(p))

    def predict(self, p: ProfileState) -> int | None:
        """Segment id for a profile, or None before the warm-up completes."""
        if self.km is None:
            return None
        return self.km.predict_one(self._z(p))

    def _seed(self, now: int) -> None:
        x = np.array(list(self._warm.values()), dtype=float)
        mean = x.mean(axis=0)
        std = x.std(axis=0)
        std[std < 1e-9] = 1.0
        z = (x - mean) / std * np.array(WEIGHTS)
        centres = kmeans_pp(z, self.config.k, self.config.seed)
        km = KMeans(n_clusters=self.config.k, halflife=self.config.halflife, seed=self.config.seed)
        for j in range(self.config.k):
            centre = km.centers[j]
            centre.clear()
            for i in range(N_FEATURES):
                centre[i] = float(centres[j, i])
        self.mean, self.std = [float(v) for v in mean], [float(v) for v in std]
        self.km = km
        self.seeded_at = now
        self._warm = {}

    def maybe_refit(self, profiles: Callable[[], Iterable[ProfileState]], now: int) -> bool:
        """Batch refinement when ``refit_every_days`` of event time passed since the last one."""
        every = self.config.refit_every_days
        if self.km is None or every <= 0:
            return False
        last = self.refitted_at if self.refitted_at is not None else self.seeded_at
        if last is not None and now - last < every * DAY_MS:
            return False
        self.refit(profiles(), now)
        return True

    def refit(self, profiles: Iterable[ProfileState], now: int) -> None:
        """Re-standardise on current mature profiles; Lloyd steps from the current centres."""
        assert self.km is not None
        min_sessions = self.config.min_sessions
        rows = [transform(raw_features(p)) for p in profiles if p.sessions >= min_sessions]
        self.refitted_at = now
        if len(rows) < self.config.k:
            return
        x = np.array(rows, dtype=float)
        k = self.config.k
        w = np.array(WEIGHTS)
        old_mean, old_std = np.array(self.mean), np.array(self.std)
        centres = np.array([self.centroid_z(j) for j in range(k)]) / w * old_std + old_mean
        mean, std = x.mean(axis=0), x.std(axis=0)
        std[std < 1e-9] = 1.0
        z = (x - mean) / std * w
        old = (centres - mean) / std * w
        z_centres, inertia = lloyd(z, old, self.config.refit_iters)
        z_centres = self._maybe_reseed(z, old, z_centres, inertia)
        self.mean, self.std = [float(v) for v in mean], [float(v) for v in std]
        for j in range(k):
            centre = self.km.centers[j]
            for i in range(N_FEATURES):
                centre[i] = float(z_centres[j, i])
        self.refits += 1
        self._portraits = None

    def _maybe_reseed(
        self, z: np.ndarray, old: np.ndarray, refined: np.ndarray, inertia: float
    ) -> np.ndarray:
        """Escape a poor local optimum without renumbering segments.

        A fresh k-means++ search runs on (a sample of) the current population; if it
        fits clearly better, its centres are matched to the existing ids by the
        smallest total centre displacement (Hungarian assignment), so every id moves
        to the new centre closest to what it meant before.
        """
        k = self.config.k
        sample = z
        if len(z) > RESEED_SAMPLE:
            rng = np.random.default_rng(self.config.seed + self.refits)
            sample = z[rng.choice(len(z), RESEED_SAMPLE, replace=False)]
        fresh = kmeans_pp(sample, k, self.config.seed + self.refits)
        fresh, fresh_inertia = lloyd(z, fresh, self.config.refit_iters)
        if fresh_inertia >= RESEED_GAIN * inertia:
            return refined
        cost = ((old[:, None, :] - fresh[None, :, :]) ** 2).sum(axis=2)
        rows, cols = linear_sum_assignment(cost)
        matched = np.empty_like(fresh)
        matched[rows] = fresh[cols]
        self.reseeds += 1
        return matched

    def centroid_z(self, seg: int) -> list[float]:
        assert self.km is not None
        c = self.km.centers[seg]
        return [float(c.get(i, 0.0)) for i in range(N_FEATURES)]

    def centroid(self, seg: int) -> list[float]:
        """Centre of ``seg`` in original units."""
        z = self.centroid_z(seg)
        return untransform(
            [z[i] / WEIGHTS[i] * self.std[i] + self.mean[i] for i in range(N_FEATURES)]
        )

    def portraits(self) -> dict[int, dict[str, object]]:
        """``{id: {"id", "name", "description", "action"}}``; cached until the centres move."""
        if self.km is None:
            return {}
        if self._portraits is None:
            ids = sorted(self.km.centers)
            names = name_segments({s: self.centroid_z(s) for s in ids})
            self._portraits = {
                s: {
                    "id": s,
                    "name": names[s][0],
                    "description": describe(self.centroid(s)),
                    "action": names[s][1],
                }
                for s in ids
            }
        return self._portraits

    def invalidate_portraits(self) -> None:
        """Called once per batch so portraits follow the centres without per-event cost."""
        self._portraits = None

    def __getstate__(self) -> dict[str, object]:
        state = dict(self.__dict__)
        state["_portraits"] = None
        if self.km is not None:
            # river centres are defaultdicts with a bound-method factory: store plain values.
            state["km"] = {j: dict(c) for j, c in self.km.centers.items()}
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        centres = state.pop("km")
        self.__dict__.update(state)
        self.km = None
        if centres is not None:
            km = KMeans(
                n_clusters=self.config.k, halflife=self.config.halflife, seed=self.config.seed
            )
            for j, c in centres.items():  # type: ignore[union-attr]
                km.centers[j].clear()
                km.centers[j].update(c)
            self.km = km
