from insight_stream.models.churn import AlertPolicy, ChurnConfig, ChurnUser, alert_id

CFG = ChurnConfig(alert_threshold=0.8, reset_threshold=0.6, cooldown_days=30, min_value=100)
DAY = 86_400_000


def user(last_ts: int = 0) -> ChurnUser:
    u = ChurnUser()
    u.last_ts = last_ts
    return u


def test_one_alert_per_episode_with_hysteresis() -> None:
    p = AlertPolicy(CFG)
    u = user(last_ts=5 * DAY)
    risks = [0.5, 0.79, 0.81, 0.9, 0.7, 0.85, 0.65, 0.95]  # hovers, never below reset
    alerts = [p.check("u1", u, r, 500.0, (10 + i) * DAY, ["x"]) for i, r in enumerate(risks)]
    fired = [a for a in alerts if a is not None]
    assert len(fired) == 1 and fired[0]["ts"] == 12 * DAY and fired[0]["risk"] == 0.81
    assert fired[0]["alert_id"] == alert_id("u1", 5 * DAY)


def test_new_episode_after_cooldown_alerts_again() -> None:
    p = AlertPolicy(CFG)
    u = user(last_ts=0)
    assert p.check("u1", u, 0.9, 500.0, 40 * DAY, []) is not None
    u.last_ts = 50 * DAY  # the customer came back: a new silence is a new episode
    assert p.check("u1", u, 0.9, 500.0, 60 * DAY, []) is None  # cooldown (20 days)
    second = p.check("u1", u, 0.9, 500.0, 71 * DAY, [])
    assert second is not None and second["alert_id"] == alert_id("u1", 50 * DAY)
    # re-arming below reset without new activity does not re-alert the same silence
    assert p.check("u1", u, 0.3, 500.0, 120 * DAY, []) is None
    assert p.check("u1", u, 0.9, 500.0, 121 * DAY, []) is None


def test_no_alert_below_min_value_and_ids_are_deterministic() -> None:
    p = AlertPolicy(CFG)
    u = user(last_ts=DAY)
    assert p.check("u1", u, 0.99, 99.9, 50 * DAY, []) is None
    a = p.check("u1", u, 0.99, 100.0, 51 * DAY, ["r"])
    replay = AlertPolicy(CFG).check("u1", user(last_ts=DAY), 0.97, 100.0, 52 * DAY, ["r"])
    assert a is not None and replay is not None and a["alert_id"] == replay["alert_id"]
    assert alert_id("u2", DAY) != a["alert_id"]
    assert set(a) == {"schema_version", "alert_id", "user_id", "ts", "risk", "value", "reasons"}
