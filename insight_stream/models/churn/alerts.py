"""Alert policy: one alert per at-risk episode for customers worth keeping.

An episode is a silence: it starts at the customer's last event (``last_ts``).
The alert id hashes (user, episode start), not the moment the timer happened to
fire, so a replay, a restart or a differently batched run sends the same id and
the retention service can de-duplicate. Hysteresis (re-arm only below
``reset_threshold``) and a cooldown keep a risk hovering at the threshold quiet.
"""

from __future__ import annotations

from hashlib import blake2b

from insight_stream.models.churn.config import ChurnConfig
from insight_stream.models.churn.state import DAY_MS, ChurnUser


def alert_id(user_id: str, episode_ms: int) -> str:
    """Deterministic id of the alert for ``user_id``'s silence starting at ``episode_ms``.

    >>> alert_id("u1", 1700000000000) == alert_id("u1", 1700000000000)
    True
    >>> len(alert_id("u1", 0))
    32
    """
    return blake2b(f"{user_id}|{episode_ms}".encode(), digest_size=16).hexdigest()


class AlertPolicy:
    """Decides when a risk score becomes a churn alert; state lives in the ``ChurnUser``.

    >>> policy = AlertPolicy(ChurnConfig(alert_threshold=0.8, reset_threshold=0.6, min_value=50))
    >>> u = ChurnUser()
    >>> u.last_ts = 1_000
    >>> first = policy.check("u1", u, 0.85, 120.0, 5_000, ["no order for 63 days"])
    >>> first["alert_id"] == alert_id("u1", 1_000), first["ts"]
    (True, 5000)
    >>> policy.check("u1", u, 0.9, 120.0, 6_000, []) is None  # same episode: quiet
    True
    >>> policy.check("u1", u, 0.95, 10.0, 7_000, []) is None  # not valuable enough
    True
    """

    def __init__(self, config: ChurnConfig | None = None) -> None:
        self.config = config or ChurnConfig()
        self._cooldown_ms = int(self.config.cooldown_days * DAY_MS)

    def check(
        self,
        user_id: str,
        u: ChurnUser,
        risk: float,
        value: float,
        now_ms: int,
        reasons: list[str],
    ) -> dict | None:
        """An alert dict (``ChurnAlert`` fields but action/top_category/items) or None.

        Fires when an armed customer with ``value >= min_value`` reaches the alert
        threshold outside the cooldown; re-arms once risk falls below the reset
        threshold or once the customer has been active since the alert (a new silence
        is a new episode). Below ``min_value`` nothing fires.
        """
        cfg = self.config
        if not u.alert_armed:
            # re-arm below the reset threshold, or when the customer came back since
            if risk >= cfg.reset_threshold and u.last_ts == u.alert_episode:
                return None
            u.alert_armed = True
        if risk < cfg.alert_threshold or value < cfg.min_value:
            return None
        if u.last_alert_ms >= 0 and now_ms - u.last_alert_ms < self._cooldown_ms:
            return None
        episode = u.last_ts if u.last_ts >= 0 else now_ms
        if episode == u.alert_episode:  # this silence was already alerted (re-armed by a refit)
            return None
        u.alert_armed = False
        u.alert_episode = episode
        u.last_alert_ms = now_ms
        return {
            "schema_version": 1,
            "alert_id": alert_id(user_id, episode),
            "user_id": user_id,
            "ts": now_ms,
            "risk": risk,
            "value": value,
            "reasons": list(reasons),
        }
