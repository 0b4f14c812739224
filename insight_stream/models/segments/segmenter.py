"""Online customer segments: river's KMeans on standardised profile features.

* Warm-up (:mod:`~insight_stream.models.segments.warmup`): the latest feature
  vectors of users with ``warmup_sessions`` sessions are collected until an
  adaptive target is met (``warmup_users``, or on a small shop a share of the users
  seen so far); until then :attr:`Segmenter.status` is ``"warming_up"``. They fix the
  standardisation (mean, std) and seed the centres with k-means++ and Lloyd passes
  (river's default random start leaves clusters empty).
* k: fixed by ``SegmentConfig.k``, or (``k=None``, the default) chosen by silhouette
  over ``k_range`` on a bounded sample, at seeding and at every batch refinement
  (:mod:`~insight_stream.models.segments.selection`).
* Then each learning event moves one centre (``learn_predict_one``). Ids are never
  renumbered: when k changes, clusters that persist keep their id (Hungarian
  matching, checked on membership), splits and merges get new ids, and the mapping is logged.
  :attr:`Segmenter.quality` holds the chosen k, silhouette and Davies-Bouldin index.
* Learning happens only on events that change the clustering features in a way
  worth learning (the Processor calls :meth:`learn` on orders and new sessions);
  assignment (:meth:`predict`) is done when a profile is published.
"""

from __future__ import annotations

import collections
import functools
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
from river.cluster import KMeans

from insight_stream.models.profile import DAY_MS, ProfileState
from insight_stream.models.segments.features import (
    N_FEATURES,
    WEIGHTS,
    raw_features,
    transform,
    untransform,
)
from insight_stream.models.segments.portraits import describe, name_segments
from insight_stream.models.segments.seeding import assign, kmeans_pp, lloyd
from insight_stream.models.segments.selection import (
    choose_k,
    davies_bouldin,
    match_ids,
    reseed,
    sample_rows,
    silhouette,
)
from insight_stream.models.segments.warmup import WarmUp

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SegmentConfig:
    """Segment settings.

    Parameters
    ----------
    k
        Number of segments; ``None`` (default): chosen in ``k_range`` by silhouette
        at seeding and at every batch refinement.
    k_range
        ``(low, high)`` k searched when ``k`` is None.
    k_tolerance
        The largest k whose silhouette is within this of the best one wins.
    k_sample
        Rows the k search and the quality scores run on (bounds the refit cost).
    k_tries
        k-means++ restarts per candidate k (the best inertia is scored): fewer make
        the silhouettes, and so the chosen k, noisier.
    warmup_users
        Mature users that complete the warm-up at once.
    warmup_sessions
        Sessions a user needs to count as mature in the warm-up.
    warmup_share, warmup_min_users, warmup_min_days
        After ``warmup_min_days`` of event time, the warm-up also completes when the
        mature users are ``warmup_share`` of the users seen so far and at least
        ``warmup_min_users`` (small shops).
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

    k: int | None = None
    k_range: tuple[int, int] = (3, 10)
    k_tolerance: float = 0.02
    k_sample: int = 1500
    k_tries: int = 8
    warmup_users: int = 200
    warmup_sessions: int = 3
    warmup_share: float = 0.1
    warmup_min_users: int = 30
    warmup_min_days: float = 14.0
    min_sessions: int = 5
    halflife: float = 0.01
    seed: int = 42
    refit_every_days: float = 14.0
    refit_iters: int = 10

    def __post_init__(self) -> None:
        if self.k is not None and self.k < 1:
            raise ValueError("segments.k must be >= 1")
        lo, hi = self.k_range
        if not 2 <= lo <= hi:
            raise ValueError("segments.k_range must be (low, high) with 2 <= low <= high")
        smallest = self.k if self.k is not None else hi
        if self.warmup_users < smallest:
            raise ValueError("segments.warmup_users must be >= segments.k")
        if self.warmup_min_users < (self.k if self.k is not None else lo):
            raise ValueError("segments.warmup_min_users must be >= k (or k_range low)")
        if not 0 < self.warmup_share <= 1:
            raise ValueError("segments.warmup_share must be in (0, 1]")
        if not 0 < self.halflife <= 1:
            raise ValueError("segments.halflife must be in (0, 1]")
        if self.refit_every_days < 0:
            raise ValueError("segments.refit_every_days must be >= 0")


class Segmenter:
    """Warm-up, then incremental KMeans with stable ids, readable portraits and quality.

    Examples
    --------
    >>> seg = Segmenter()
    >>> seg.status, seg.predict(ProfileState(0)), seg.quality["k"]
    ('warming_up', None, None)
    """

    def __init__(self, config: SegmentConfig | None = None) -> None:
        self.config = cfg = config or SegmentConfig()
        self.km: KMeans | None = None
        self.mean: list[float] = [0.0] * N_FEATURES
        self.std: list[float] = [1.0] * N_FEATURES
        self._warm = WarmUp(
            cfg.warmup_users,
            cfg.warmup_sessions,
            cfg.warmup_share,
            cfg.warmup_min_users,
            cfg.warmup_min_days,
        )
        self.learned = 0
        self.seeded_at: int | None = None
        self.refitted_at: int | None = None
        self.refits = 0
        self.reseeds = 0
        self.next_id = 0
        self.id_changes: list[dict[str, object]] = []
        self.quality: dict[str, object] = {"status": "warming_up", "k": None}
        self.refit_seconds = 0.0
        self._portraits: dict[int, dict[str, object]] | None = None

    @property
    def ready(self) -> bool:
        return self.km is not None

    @property
    def status(self) -> str:
        """``"warming_up"`` until the centres are seeded, then ``"ready"``."""
        return "ready" if self.km is not None else "warming_up"

    def warmup_progress(self) -> dict[str, int]:
        """Mature and seen users of the warm-up and its current target."""
        return self._warm.progress()

    def _z(self, p: ProfileState) -> dict[int, float]:
        return self._z_row(transform(raw_features(p)))

    def _z_row(self, t: list[float]) -> dict[int, float]:
        mean, std, w = self.mean, self.std, WEIGHTS
        return {i: (t[i] - mean[i]) / std[i] * w[i] for i in range(N_FEATURES)}

    def learn(self, user_id: str, p: ProfileState, now: int) -> int | None:
        """Fold one user's current features in; returns the segment it moved (or None)."""
        op = self.observe(user_id, p, now)
        return None if op is None else self.apply(op)

    def observe(self, user_id: str, p: ProfileState, now: int) -> tuple | None:
        """What :meth:`apply` needs to learn from this profile later (plain data), or None.

        The user id is kept only while warming up (the sample is keyed by it), so an
        op held for later names nobody once the centres exist.
        """
        if self.km is None:
            return (user_id, p.sessions, transform(raw_features(p)), now)
        if p.sessions < self.config.min_sessions:
            return None
        return (None, p.sessions, transform(raw_features(p)), now)

    def apply(self, op: tuple) -> int | None:
        """Learn an op of :meth:`observe`: the warm-up sample, or one KMeans step.

        Returns the segment that moved, if any. Ops are applied in the order they were
        observed, so the centres depend on the input order only.
        """
        user_id, sessions, row, now = op
        if self.km is None:
            if user_id is not None and self._warm.add(user_id, sessions, row, now):
                self._seed(now)
            return None
        if sessions < self.config.min_sessions:
            return None
        self.learned += 1
        self._portraits = None
        return self.km.learn_predict_one(self._z_row(row))

    def forget(self, user_id: str) -> None:
        """Erasure: the warm-up sample is the only place the segmenter keys by user id."""
        self._warm.forget(user_id)

    def predict(self, p: ProfileState) -> int | None:
        """Segment id for a profile, or None before the warm-up completes."""
        if self.km is None:
            return None
        return self.km.predict_one(self._z(p))

    def _set_centres(self, centres: dict[int, np.ndarray] | dict[int, dict[int, float]]) -> None:
        """Install centres by id into a river KMeans (ids need not be 0..k-1)."""
        cfg = self.config
        km = KMeans(n_clusters=len(centres), halflife=cfg.halflife, seed=cfg.seed)
        gauss = functools.partial(km._rng.gauss, km.mu, km.sigma)
        km.centers = {}
        for j, c in centres.items():
            values = c if isinstance(c, dict) else {i: float(c[i]) for i in range(N_FEATURES)}
            km.centers[j] = collections.defaultdict(gauss, values)
        self.km = km

    def _seed(self, now: int) -> None:
        t0 = time.perf_counter()
        cfg = self.config
        x = np.array(list(self._warm.rows.values()), dtype=float)
        mean = x.mean(axis=0)
        std = x.std(axis=0)
        std[std < 1e-9] = 1.0
        z = (x - mean) / std * np.array(WEIGHTS)
        scores: dict[int, float] = {}
        if cfg.k is None:
            lo, hi = cfg.k_range
            _, fitted, scores = choose_k(
                z, range(lo, hi + 1), cfg.seed, cfg.k_sample, cfg.k_tolerance, 20, cfg.k_tries
            )
            centres, _ = lloyd(z, fitted, 20)
        else:
            centres = kmeans_pp(z, cfg.k, cfg.seed)
        self.mean, self.std = [float(v) for v in mean], [float(v) for v in std]
        self._set_centres({j: centres[j] for j in range(len(centres))})
        self.next_id = len(centres)
        self.seeded_at = now
        self._warm = WarmUp(0, 0, 1.0, 0, 0.0)  # release the sample
        self.refit_seconds = time.perf_counter() - t0
        self._score(z, scores, len(x))
        log.info("segments ready at %d: k=%d from %d users", now, len(centres), len(x))

    def _score(self, z: np.ndarray, scores: dict[int, float], rows: int) -> None:
        """Fill :attr:`quality` from the current centres on a sample of ``z``."""
        ids = sorted(self.km.centers) if self.km is not None else []
        sample = sample_rows(z, self.config.k_sample, self.config.seed)
        labels, _ = assign(sample, np.array([self.centroid_z(j) for j in ids]))
        self.quality = {
            "status": self.status,
            "k": len(ids),
            "ids": ids,
            "silhouette": round(silhouette(sample, labels), 4),
            "davies_bouldin": round(davies_bouldin(sample, labels), 4),
            "k_scores": {k: round(v, 4) for k, v in scores.items()},
            "rows": rows,
            "sample": len(sample),
            "refits": self.refits,
            "refit_seconds": round(self.refit_seconds, 4),
        }

    def population_due(self, now: int) -> bool:
        """Whether :meth:`maybe_refit` at ``now`` refines (and so reads the profiles)."""
        every = self.config.refit_every_days
        if self.km is None or every <= 0:
            return False
        last = self.refitted_at if self.refitted_at is not None else self.seeded_at
        return last is None or now - last >= every * DAY_MS

    def maybe_refit(self, profiles: Callable[[], Iterable[ProfileState]], now: int) -> bool:
        """Batch refinement when ``refit_every_days`` of event time passed since the last one."""
        if not self.population_due(now):
            return False
        self.refit(profiles(), now)
        return True

    def _rows(self, profiles: Iterable[ProfileState]) -> list[list[float]]:
        """Features of mature users (``min_sessions``; ``warmup_sessions`` on a small shop)."""
        cfg = self.config
        low = min(cfg.warmup_sessions, cfg.min_sessions)
        rows, sessions = [], []
        for p in profiles:
            if p.sessions >= low:
                rows.append(transform(raw_features(p)))
                sessions.append(p.sessions)
        mature = [r for r, s in zip(rows, sessions, strict=True) if s >= cfg.min_sessions]
        return mature if len(mature) >= cfg.warmup_min_users else rows

    def refit(self, profiles: Iterable[ProfileState], now: int) -> None:
        """Re-standardise on current mature profiles; Lloyd steps from the current centres;
        with ``k=None`` re-choose k (persisting clusters keep their ids)."""
        assert self.km is not None
        t0 = time.perf_counter()
        cfg = self.config
        rows = self._rows(profiles)
        self.refitted_at = now
        ids = sorted(self.km.centers)
        if len(rows) < max(len(ids), cfg.k_range[0] if cfg.k is None else 1):
            return
        x = np.array(rows, dtype=float)
        w = np.array(WEIGHTS)
        old_mean, old_std = np.array(self.mean), np.array(self.std)
        centres = np.array([self.centroid_z(j) for j in ids]) / w * old_std + old_mean
        mean, std = x.mean(axis=0), x.std(axis=0)
        std[std < 1e-9] = 1.0
        z = (x - mean) / std * w
        old = (centres - mean) / std * w
        z_centres, inertia = lloyd(z, old, cfg.refit_iters)
        scores: dict[int, float] = {}
        new_k = len(ids)
        if cfg.k is None:
            lo, hi = cfg.k_range
            seed = cfg.seed + self.refits + 1
            new_k, fresh, scores = choose_k(
                z, range(lo, hi + 1), seed, cfg.k_sample, cfg.k_tolerance, 20, cfg.k_tries
            )
        self.mean, self.std = [float(v) for v in mean], [float(v) for v in std]
        if new_k == len(ids):
            z_centres = self._maybe_reseed(z, old, z_centres, inertia)
            self._set_centres({j: z_centres[n] for n, j in enumerate(ids)})
        else:
            fresh, _ = lloyd(z, fresh, cfg.refit_iters)
            by_id, mapping, self.next_id = match_ids(
                z, {j: old[n] for n, j in enumerate(ids)}, fresh, self.next_id
            )
            kept = sorted(set(mapping.values()) & set(ids))
            change = {
                "ts": now,
                "k_before": len(ids),
                "k_after": new_k,
                "kept": kept,
                "new": sorted(set(mapping.values()) - set(ids)),
                "retired": sorted(set(ids) - set(mapping.values())),
            }
            self.id_changes = [*self.id_changes[-19:], change]
            log.info("segments k %d -> %d at %d: %s", len(ids), new_k, now, change)
            self._set_centres(by_id)
        self.refits += 1
        self._portraits = None
        self.refit_seconds = time.perf_counter() - t0
        self._score(z, scores, len(x))

    def _maybe_reseed(
        self, z: np.ndarray, old: np.ndarray, refined: np.ndarray, inertia: float
    ) -> np.ndarray:
        """Escape a poor local optimum without renumbering segments (:func:`reseed`)."""
        matched = reseed(
            z, old, refined, inertia, self.config.seed + self.refits, self.config.refit_iters
        )
        self.reseeds += matched is not refined
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
        portraits = self._portraits  # a local: another thread may invalidate the cache
        if portraits is None:
            ids = sorted(self.km.centers)
            names = name_segments({s: self.centroid_z(s) for s in ids})
            portraits = self._portraits = {
                s: {
                    "id": s,
                    "name": names[s][0],
                    "description": describe(self.centroid(s)),
                    "action": names[s][1],
                }
                for s in ids
            }
        return portraits

    def invalidate_portraits(self) -> None:
        """Called once per batch so portraits follow the centres without per-event cost."""
        self._portraits = None

    def __getstate__(self) -> dict[str, object]:
        state = dict(self.__dict__)
        state["_portraits"] = None
        # wall-clock timings are reporting, not state: checkpoints stay reproducible
        state["refit_seconds"] = 0.0
        if isinstance(state.get("quality"), dict):
            state["quality"] = {**state["quality"], "refit_seconds": 0.0}
        if self.km is not None:
            # river centres are defaultdicts with a bound-method factory: store plain values.
            state["km"] = {j: dict(c) for j, c in self.km.centers.items()}
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        centres = state.pop("km")
        self.__dict__.update(state)
        self.km = None
        if centres is not None:
            self._set_centres(centres)  # type: ignore[arg-type]
