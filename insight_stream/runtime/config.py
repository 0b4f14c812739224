"""Runtime settings for ``insight-stream run``: loading and validating :data:`SETTINGS`.

Every setting is declared once in :mod:`insight_stream.runtime.settings` (env name, flag,
type, default, help), so the CLI ``--help``, the docker-compose wiring test and validation
cannot drift apart. Validation happens all at once at start-up and names every bad setting
(and every ``INSIGHT_*`` variable nobody reads), because an operator fixing a deployment
wants the whole list, not one error per restart.
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from insight_stream.events.limits import InputLimits
from insight_stream.events.pseudonym import Pseudonymizer
from insight_stream.runtime.parsing import PARSED_DEFAULTS, parse_duration, parse_value
from insight_stream.runtime.settings import (
    BY_ENV,
    SASL_MECHANISMS,
    SECURITY_PROTOCOLS,
    SETTINGS,
    ConfigError,
    Setting,
    unknown_env_errors,
)

if TYPE_CHECKING:
    from insight_stream.processor import EngineConfig

__all__ = [
    "BY_ENV",
    "SASL_MECHANISMS",
    "SECURITY_PROTOCOLS",
    "SETTINGS",
    "ConfigError",
    "RuntimeConfig",
    "Setting",
    "add_arguments",
    "load_config",
    "overrides_from_args",
    "parse_duration",
]


@dataclass(frozen=True)
class RuntimeConfig:
    """Validated runtime settings (see :data:`SETTINGS` for meaning and defaults)."""

    bootstrap_servers: str
    group_id: str
    client_id: str
    clickstream_topic: str
    orders_topic: str
    profiles_topic: str
    alerts_topic: str
    dlq_topic: str
    partitions: int
    replication_factor: int
    create_topics: bool
    state_dir: Path
    batch_size: int
    commit_interval_ms: int
    live_commit_interval_ms: int
    flush_events: int
    max_task_idle_ms: int
    max_buffered: int
    settle_interval_ms: int
    on_offset_loss: str
    changelog: bool
    changelog_snapshot_records: int
    share_models: bool
    acks: str
    linger_ms: int
    produce_timeout_s: float
    broker_timeout_s: float
    session_timeout_ms: int
    heartbeat_interval_ms: int
    idle_advance_s: float
    metrics_port: int
    metrics_host: str
    stall_timeout_s: float
    log_format: str
    log_level: str
    security_protocol: str
    sasl_mechanism: str | None
    sasl_username: str | None
    sasl_password: str | None
    sasl_password_file: str | None
    ssl_cafile: str | None
    ssl_certfile: str | None
    ssl_keyfile: str | None
    max_future_skew: int  # ms, 0 = off
    min_event_ts: int  # epoch ms
    max_record_bytes: int
    allowed_lateness: int  # ms
    late_policy: str
    pseudonymize_key: str | None
    advertised_http: str | None

    def input_limits(self) -> InputLimits:
        """The limits ``decode`` checks (the future check also needs the wall clock)."""
        return InputLimits(
            min_ts_ms=self.min_event_ts,
            max_future_skew_ms=self.max_future_skew or None,
            max_record_bytes=self.max_record_bytes,
        )

    def engine_config(self, base: EngineConfig | None = None) -> EngineConfig:
        """``base`` (default: the defaults) with the engine settings of this config applied."""
        from dataclasses import replace

        from insight_stream.processor import EngineConfig

        return replace(
            base or EngineConfig(),
            allowed_lateness_ms=self.allowed_lateness,
            late_policy=self.late_policy,
            flush_events=self.flush_events,
        )

    def pseudonymizer(self) -> Pseudonymizer | None:
        """The edge id replacement INSIGHT_PSEUDONYMIZE_KEY asks for (None: off)."""
        return Pseudonymizer(self.pseudonymize_key) if self.pseudonymize_key else None

    @property
    def input_topics(self) -> tuple[str, str]:
        return (self.clickstream_topic, self.orders_topic)

    @property
    def topic_by_kind(self) -> dict[str, str]:
        """Input topic per simulated event kind, as :func:`~insight_stream.runtime.feeder.feed`
        takes it."""
        return {"clickstream": self.clickstream_topic, "orders": self.orders_topic}

    @property
    def output_topics(self) -> tuple[str, str, str]:
        return (self.profiles_topic, self.alerts_topic, self.dlq_topic)

    @property
    def changelog_topic(self) -> str:
        """``<group>.state-changelog``, characters a topic name cannot hold replaced by ``_``.

        >>> load_config({"INSIGHT_GROUP_ID": "shop insights"}).changelog_topic
        'shop_insights.state-changelog'
        """
        return re.sub(r"[^A-Za-z0-9._-]", "_", self.group_id)[:230] + ".state-changelog"

    @property
    def model_topic(self) -> str:
        """``<group>.model-ops``: every instance's model epochs (runtime/model_topic.py).

        >>> load_config({"INSIGHT_GROUP_ID": "shop insights"}).model_topic
        'shop_insights.model-ops'
        """
        return re.sub(r"[^A-Za-z0-9._-]", "_", self.group_id)[:230] + ".model-ops"

    def kafka_common(self) -> dict[str, Any]:
        """Connection + security options for consumer, producer and admin (kafka-python names)."""
        opts: dict[str, Any] = {
            "bootstrap_servers": [
                s.strip() for s in self.bootstrap_servers.split(",") if s.strip()
            ],
            "security_protocol": self.security_protocol,
        }
        if self.sasl_mechanism:
            opts["sasl_mechanism"] = self.sasl_mechanism
        if self.sasl_username is not None:
            opts["sasl_plain_username"] = self.sasl_username
        if self.sasl_password is not None:
            opts["sasl_plain_password"] = self.sasl_password
        for name in ("ssl_cafile", "ssl_certfile", "ssl_keyfile"):
            if getattr(self, name):
                opts[name] = getattr(self, name)
        if self.ssl_cafile or self.ssl_certfile:
            opts["ssl_check_hostname"] = True
        return opts

    def redacted(self) -> dict[str, Any]:
        """Settings for the start-up log line, secrets masked."""
        out = {}
        for s in SETTINGS:
            value = getattr(self, s.field)
            out[s.field] = (
                "***" if s.secret and value else (str(value) if isinstance(value, Path) else value)
            )
        return out


def load_config(
    env: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None
) -> RuntimeConfig:
    """Build the config from ``env`` (default ``os.environ``) then ``overrides`` (flags by field).

    Raises :class:`ConfigError` listing every bad setting by env name and flag.

    >>> load_config({"INSIGHT_PARTITIONS": "8"}).partitions
    8
    >>> load_config({"INSIGHT_PARTITIONS": "zero"})
    Traceback (most recent call last):
    ...
    insight_stream.runtime.settings.ConfigError: invalid settings:
      INSIGHT_PARTITIONS (--partitions): expected a number, got 'zero'
    """
    env = os.environ if env is None else env
    overrides = overrides or {}
    values: dict[str, Any] = {}
    errors: list[str] = unknown_env_errors(env)
    for s in SETTINGS:
        raw = overrides.get(s.field)
        if raw is None:
            raw = env.get(s.env)
        if raw is None and s.kind in PARSED_DEFAULTS:
            raw = s.default
        try:
            values[s.field] = s.default if raw is None else parse_value(s, raw)
            if s.kind == "path" and isinstance(values[s.field], str):
                values[s.field] = Path(values[s.field])
        except ValueError as exc:
            errors.append(f"{s.label}: {exc}")
    if not errors:
        errors.extend(_cross_checks(values))
    if not errors and values["sasl_password_file"]:
        values["sasl_password"] = _read_secret(values["sasl_password_file"], errors)
    if errors:
        raise ConfigError("invalid settings:\n  " + "\n  ".join(errors))
    return RuntimeConfig(**values)


def _read_secret(path: str, errors: list[str]) -> str | None:
    """The password in ``path`` without its trailing newline (as secret mounts write it)."""
    label = BY_ENV["INSIGHT_SASL_PASSWORD_FILE"].label
    try:
        text = Path(path).read_text().rstrip("\r\n")
    except OSError as exc:
        errors.append(f"{label}: cannot read {path}: {exc.strerror}")
        return None
    if not text:
        errors.append(f"{label}: {path} is empty")
    return text


def _cross_checks(v: dict[str, Any]) -> list[str]:
    """Rules that involve several settings."""
    errors = []
    label = {s.field: s.label for s in SETTINGS}
    topics = [
        v[f]
        for f in (
            "clickstream_topic",
            "orders_topic",
            "profiles_topic",
            "alerts_topic",
            "dlq_topic",
        )
    ]
    if len(set(topics)) != len(topics):
        errors.append(f"topic names must all differ, got {', '.join(topics)}")
    if v["heartbeat_interval_ms"] >= v["session_timeout_ms"]:
        errors.append(
            f"{label['heartbeat_interval_ms']}: must be below "
            f"{label['session_timeout_ms']} "
            f"({v['heartbeat_interval_ms']} >= {v['session_timeout_ms']})"
        )
    proto = v["security_protocol"]
    if proto.startswith("SASL"):
        mech = v["sasl_mechanism"]
        if not mech:
            errors.append(f"{label['sasl_mechanism']}: required when security protocol is {proto}")
        elif mech in ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"):
            if not v["sasl_username"]:
                errors.append(f"{label['sasl_username']}: required with SASL mechanism {mech}")
            if not (v["sasl_password"] or v["sasl_password_file"]):
                errors.append(
                    f"{label['sasl_password']} or {label['sasl_password_file']}: "
                    f"required with SASL mechanism {mech}"
                )
    elif v["sasl_mechanism"]:
        errors.append(
            f"{label['sasl_mechanism']}: needs {label['security_protocol']} "
            "SASL_PLAINTEXT or SASL_SSL"
        )
    if v["sasl_password"] and v["sasl_password_file"]:
        errors.append(f"{label['sasl_password']} and {label['sasl_password_file']}: set only one")
    if not proto.endswith("SSL"):
        for f in ("ssl_cafile", "ssl_certfile", "ssl_keyfile"):
            if v[f]:
                errors.append(f"{label[f]}: needs {label['security_protocol']} SSL or SASL_SSL")
    if bool(v["ssl_certfile"]) != bool(v["ssl_keyfile"]) and proto.endswith("SSL"):
        errors.append(f"{label['ssl_certfile']} and {label['ssl_keyfile']} go together")
    key = v["pseudonymize_key"]
    if key is not None and len(key) < 16:
        errors.append(f"{label['pseudonymize_key']}: must be at least 16 characters")
    if not [s for s in v["bootstrap_servers"].split(",") if s.strip()]:
        errors.append(f"{label['bootstrap_servers']}: must not be empty")
    return errors


def add_arguments(parser: Any) -> None:
    """Add one flag per setting to an argparse parser; help shows the env name and default.

    Environment-only settings get no flag; ``--sasl-password`` is kept only to say why it went.
    """
    parser.add_argument(
        "--sasl-password",
        action=_RemovedFlag,
        help=argparse.SUPPRESS,
        reason="the command line is visible to every user in ps; set INSIGHT_SASL_PASSWORD "
        "or INSIGHT_SASL_PASSWORD_FILE instead",
    )
    for s in SETTINGS:
        if s.env_only:
            continue
        default = "unset" if s.default is None else s.default
        help_text = f"{s.help} [env {s.env}, default {default}]"
        if s.kind == "bool":
            parser.add_argument(s.flag, dest=s.field, default=None, metavar="BOOL", help=help_text)
        elif s.kind == "choice":
            parser.add_argument(
                s.flag, dest=s.field, default=None, metavar="|".join(s.choices), help=help_text
            )
        else:
            parser.add_argument(
                s.flag, dest=s.field, default=None, metavar=s.kind.upper(), help=help_text
            )


def overrides_from_args(args: Any) -> dict[str, Any]:
    """Flag values given on the command line (None = not given, so env/default applies)."""
    return {
        s.field: getattr(args, s.field)
        for s in SETTINGS
        if not s.env_only and getattr(args, s.field, None) is not None
    }


class _RemovedFlag(argparse.Action):
    """A flag that no longer exists: a usage error (exit 2) saying why and what to use."""

    def __init__(self, option_strings: list[str], dest: str, reason: str, **kw: Any) -> None:
        self.reason = reason
        super().__init__(option_strings, dest, **kw)

    def __call__(self, parser: Any, namespace: Any, values: Any, option: str | None = None) -> None:
        parser.error(f"{option} was removed: {self.reason}")


def config_field_names() -> list[str]:
    """Dataclass fields, for the test that SETTINGS and RuntimeConfig agree."""
    return [f.name for f in fields(RuntimeConfig)]
