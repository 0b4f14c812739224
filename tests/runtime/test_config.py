"""Runtime settings: env + flags, defaults, validation messages naming the setting."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from insight_stream.runtime.config import (
    SETTINGS,
    ConfigError,
    add_arguments,
    config_field_names,
    load_config,
    overrides_from_args,
)

COMPOSE_ENV = [
    "INSIGHT_BOOTSTRAP_SERVERS",
    "INSIGHT_GROUP_ID",
    "INSIGHT_CLICKSTREAM_TOPIC",
    "INSIGHT_ORDERS_TOPIC",
    "INSIGHT_PROFILES_TOPIC",
    "INSIGHT_ALERTS_TOPIC",
    "INSIGHT_DLQ_TOPIC",
    "INSIGHT_PARTITIONS",
    "INSIGHT_REPLICATION_FACTOR",
    "INSIGHT_CREATE_TOPICS",
    "INSIGHT_STATE_DIR",
    "INSIGHT_BATCH_SIZE",
    "INSIGHT_COMMIT_INTERVAL_MS",
    "INSIGHT_METRICS_PORT",
    "INSIGHT_METRICS_HOST",
    "INSIGHT_STALL_TIMEOUT_S",
    "INSIGHT_LOG_FORMAT",
    "INSIGHT_LOG_LEVEL",
    "INSIGHT_SECURITY_PROTOCOL",
    "INSIGHT_SASL_MECHANISM",
    "INSIGHT_SASL_USERNAME",
    "INSIGHT_SASL_PASSWORD",
    "INSIGHT_SSL_CAFILE",
    "INSIGHT_SSL_CERTFILE",
    "INSIGHT_SSL_KEYFILE",
]


def test_every_documented_env_name_is_a_setting_and_fields_agree() -> None:
    names = {s.env for s in SETTINGS}
    assert set(COMPOSE_ENV) <= names
    assert sorted(s.field for s in SETTINGS) == sorted(config_field_names())


def test_defaults() -> None:
    cfg = load_config({})
    assert cfg.input_topics == ("shop.clickstream", "shop.orders")
    assert cfg.output_topics == ("insight.profiles", "insight.churn-alerts", "insight.dlq")
    assert cfg.metrics_port == 9108 and cfg.create_topics is True and cfg.state_dir == Path("state")
    assert cfg.kafka_common() == {
        "bootstrap_servers": ["localhost:9092"],
        "security_protocol": "PLAINTEXT",
    }


def test_flags_override_env() -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(["--partitions", "6", "--create-topics", "false"])
    cfg = load_config(
        {"INSIGHT_PARTITIONS": "3", "INSIGHT_GROUP_ID": "g1"}, overrides_from_args(args)
    )
    assert (cfg.partitions, cfg.create_topics, cfg.group_id) == (6, False, "g1")


def test_all_bad_settings_are_named_at_once() -> None:
    with pytest.raises(ConfigError) as err:
        load_config(
            {
                "INSIGHT_PARTITIONS": "0",
                "INSIGHT_LOG_FORMAT": "xml",
                "INSIGHT_DLQ_TOPIC": "bad topic",
                "INSIGHT_CREATE_TOPICS": "maybe",
                "INSIGHT_BATCH_SIZE": "many",
            }
        )
    msg = str(err.value)
    for name in (
        "INSIGHT_PARTITIONS (--partitions): must be >= 1",
        "INSIGHT_LOG_FORMAT",
        "INSIGHT_DLQ_TOPIC",
        "INSIGHT_CREATE_TOPICS",
        "INSIGHT_BATCH_SIZE",
    ):
        assert name in msg


def test_cross_checks() -> None:
    with pytest.raises(ConfigError, match=r"INSIGHT_SASL_MECHANISM.*required"):
        load_config({"INSIGHT_SECURITY_PROTOCOL": "SASL_SSL"})
    with pytest.raises(ConfigError, match="INSIGHT_SASL_PASSWORD"):
        load_config(
            {
                "INSIGHT_SECURITY_PROTOCOL": "sasl_plaintext",
                "INSIGHT_SASL_MECHANISM": "PLAIN",
                "INSIGHT_SASL_USERNAME": "u",
            }
        )
    with pytest.raises(ConfigError, match="topic names must all differ"):
        load_config({"INSIGHT_DLQ_TOPIC": "shop.orders"})
    with pytest.raises(ConfigError, match="INSIGHT_HEARTBEAT_INTERVAL_MS"):
        load_config({"INSIGHT_SESSION_TIMEOUT_MS": "3000", "INSIGHT_HEARTBEAT_INTERVAL_MS": "3000"})
    with pytest.raises(ConfigError, match=r"INSIGHT_SSL_CAFILE.*file not found"):
        load_config(
            {"INSIGHT_SECURITY_PROTOCOL": "SSL", "INSIGHT_SSL_CAFILE": "/nonexistent/ca.pem"}
        )


def test_security_options_pass_through_and_are_redacted(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("x")
    cfg = load_config(
        {
            "INSIGHT_SECURITY_PROTOCOL": "SASL_SSL",
            "INSIGHT_SASL_MECHANISM": "SCRAM-SHA-512",
            "INSIGHT_SASL_USERNAME": "svc",
            "INSIGHT_SASL_PASSWORD": "s3cret",
            "INSIGHT_SSL_CAFILE": str(ca),
            "INSIGHT_BOOTSTRAP_SERVERS": "a:1, b:2",
        }
    )
    opts = cfg.kafka_common()
    assert opts["bootstrap_servers"] == ["a:1", "b:2"]
    assert (opts["sasl_mechanism"], opts["sasl_plain_username"], opts["sasl_plain_password"]) == (
        "SCRAM-SHA-512",
        "svc",
        "s3cret",
    )
    assert opts["ssl_cafile"] == str(ca)
    assert cfg.redacted()["sasl_password"] == "***"


def test_input_limit_defaults_and_engine_lateness() -> None:
    cfg = load_config({})
    limits = cfg.input_limits()
    assert limits.min_ts_ms == 946_684_800_000  # 2000-01-01
    assert limits.max_future_skew_ms == 86_400_000 and limits.max_record_bytes == 65_536
    engine = cfg.engine_config()
    assert (engine.allowed_lateness_ms, engine.late_policy) == (3_600_000, "fold")


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("1d", 86_400_000),
        ("6h", 21_600_000),
        ("30m", 1_800_000),
        ("90", 90_000),
        ("1.5s", 1500),
        ("250ms", 250),
        ("0", 0),
    ],
)
def test_durations(text: str, ms: int) -> None:
    cfg = load_config({"INSIGHT_MAX_FUTURE_SKEW": text, "INSIGHT_ALLOWED_LATENESS": text})
    assert cfg.max_future_skew == ms and cfg.allowed_lateness == ms
    assert cfg.input_limits().max_future_skew_ms == (ms or None)  # 0 = off


def test_hostile_input_settings_from_env_and_flags() -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(["--late-policy", "DLQ", "--min-event-ts", "1997-01-01"])
    cfg = load_config({"INSIGHT_MAX_RECORD_BYTES": "4096"}, overrides_from_args(args))
    assert cfg.late_policy == "dlq" and cfg.engine_config().late_policy == "dlq"
    assert cfg.min_event_ts == 852_076_800_000  # CDNOW starts in 1997: the floor is a setting
    assert cfg.input_limits().max_record_bytes == 4096
    assert load_config({"INSIGHT_MIN_EVENT_TS": "852076800000"}).min_event_ts == 852_076_800_000


def test_bad_hostile_input_settings_are_named() -> None:
    with pytest.raises(ConfigError) as err:
        load_config(
            {
                "INSIGHT_MAX_FUTURE_SKEW": "soon",
                "INSIGHT_MIN_EVENT_TS": "the nineties",
                "INSIGHT_MAX_RECORD_BYTES": "10",
                "INSIGHT_ALLOWED_LATENESS": "99999d",
                "INSIGHT_LATE_POLICY": "drop",
            }
        )
    msg = str(err.value)
    for name in (
        "INSIGHT_MAX_FUTURE_SKEW (--max-future-skew): expected a duration",
        "INSIGHT_MIN_EVENT_TS (--min-event-ts): expected ISO-8601 or epoch ms",
        "INSIGHT_MAX_RECORD_BYTES (--max-record-bytes): must be >= 64",
        "INSIGHT_ALLOWED_LATENESS (--allowed-lateness): must be <= 3650d",
        "INSIGHT_LATE_POLICY (--late-policy): must be one of fold, dlq",
    ):
        assert name in msg


def test_unknown_insight_variable_names_the_closest_setting() -> None:
    with pytest.raises(ConfigError) as err:
        load_config({"INSIGHT_BATCH_SIZ": "10", "INSIGHT_PARTITONS": "3"})
    msg = str(err.value)
    assert "INSIGHT_BATCH_SIZ: unknown setting; did you mean INSIGHT_BATCH_SIZE?" in msg
    assert "INSIGHT_PARTITONS: unknown setting; did you mean INSIGHT_PARTITIONS?" in msg


def test_variables_read_elsewhere_are_not_unknown() -> None:
    cfg = load_config(
        {
            "INSIGHT_TANSU_BIN": "/usr/bin/tansu",
            "INSIGHT_ENGINE_CONFIG": "engine.toml",
            "INSIGHT_ENGINE__CHURN__ALERT_THRESHOLD": "0.8",
            "INSIGHT_BATCH_SIZE": "7",
        }
    )
    assert cfg.batch_size == 7


def test_sasl_password_from_a_file(tmp_path: Path) -> None:
    secret = tmp_path / "password"
    secret.write_text("from-file\n")
    sasl = {
        "INSIGHT_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
        "INSIGHT_SASL_MECHANISM": "PLAIN",
        "INSIGHT_SASL_USERNAME": "svc",
    }
    cfg = load_config({**sasl, "INSIGHT_SASL_PASSWORD_FILE": str(secret)})
    assert cfg.kafka_common()["sasl_plain_password"] == "from-file"
    assert cfg.redacted()["sasl_password"] == "***"
    with pytest.raises(ConfigError, match="set only one"):
        load_config(
            {**sasl, "INSIGHT_SASL_PASSWORD_FILE": str(secret), "INSIGHT_SASL_PASSWORD": "x"}
        )


def test_sasl_password_has_no_flag() -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    with pytest.raises(SystemExit) as exc:
        parser.parse_args(["--sasl-password", "hunter2"])
    assert exc.value.code == 2
    assert not re.search(r"--sasl-password(?!-file)", parser.format_help())
