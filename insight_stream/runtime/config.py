"""Runtime settings for ``insight-stream run``: one table, read from ``INSIGHT_*`` env and flags.

Every setting is declared once in :data:`SETTINGS` (env name, flag, type, default, help),
so the CLI ``--help``, the docker-compose wiring test and validation cannot drift apart.
Validation happens all at once at start-up and names every bad setting, because an
operator fixing a deployment wants the whole list, not one error per restart.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from insight_stream.events.limits import InputLimits
from insight_stream.events.pseudonym import Pseudonymizer
from insight_stream.events.timestamps import to_epoch_ms

if TYPE_CHECKING:
    from insight_stream.processor import EngineConfig

_TOPIC_RE = re.compile(r"^[A-Za-z0-9._-]{1,249}$")
SECURITY_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER", "GSSAPI")
_DURATION_RE = re.compile(r"^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$")
_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
PARSED_DEFAULTS = ("duration", "timestamp")  # kinds whose default is written like the env value


class ConfigError(ValueError):
    """One or more settings are invalid; the message lists each by env name and flag."""


@dataclass(frozen=True)
class Setting:
    """One runtime setting: where it comes from and how it is parsed."""

    env: str
    field: str
    kind: str  # str | int | float | bool | choice | path | file | topic | duration | timestamp
    default: Any
    help: str
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    secret: bool = False

    @property
    def flag(self) -> str:
        return "--" + self.field.replace("_", "-")

    @property
    def label(self) -> str:
        return f"{self.env} ({self.flag})"


def _s(env: str, kind: str, default: Any, help: str, **kw: Any) -> Setting:
    return Setting(env, env.removeprefix("INSIGHT_").lower(), kind, default, help, **kw)


SETTINGS: tuple[Setting, ...] = (
    _s(
        "INSIGHT_BOOTSTRAP_SERVERS",
        "str",
        "localhost:9092",
        "Kafka bootstrap servers, host:port[,host:port]",
    ),
    _s(
        "INSIGHT_GROUP_ID",
        "str",
        "insight-stream",
        "consumer group id (instances of one deployment share it)",
    ),
    _s("INSIGHT_CLIENT_ID", "str", "insight-stream", "Kafka client id prefix"),
    _s(
        "INSIGHT_CLICKSTREAM_TOPIC",
        "topic",
        "shop.clickstream",
        "input topic of clickstream events",
    ),
    _s("INSIGHT_ORDERS_TOPIC", "topic", "shop.orders", "input topic of order events"),
    _s(
        "INSIGHT_PROFILES_TOPIC",
        "topic",
        "insight.profiles",
        "output: latest profile per user (compacted)",
    ),
    _s(
        "INSIGHT_ALERTS_TOPIC", "topic", "insight.churn-alerts", "output: churn alerts, key user_id"
    ),
    _s(
        "INSIGHT_DLQ_TOPIC",
        "topic",
        "insight.dlq",
        "output: undecodable/invalid input, raw bytes + headers",
    ),
    _s(
        "INSIGHT_PARTITIONS",
        "int",
        4,
        "partitions of every topic (created with it; existing topics must match)",
        minimum=1,
        maximum=10_000,
    ),
    _s(
        "INSIGHT_REPLICATION_FACTOR",
        "int",
        1,
        "replication factor of topics created at start",
        minimum=1,
        maximum=32,
    ),
    _s(
        "INSIGHT_CREATE_TOPICS", "bool", True, "create missing topics at start (else refuse to run)"
    ),
    _s(
        "INSIGHT_STATE_DIR",
        "path",
        "state",
        "directory of the local SQLite checkpoint (one per instance)",
    ),
    _s(
        "INSIGHT_BATCH_SIZE",
        "int",
        5000,
        "max records per poll (max_poll_records)",
        minimum=1,
        maximum=1_000_000,
    ),
    _s(
        "INSIGHT_COMMIT_INTERVAL_MS",
        "int",
        1000,
        "flush outputs + checkpoint + commit every N ms (profiles coalesce within it)",
        minimum=10,
        maximum=600_000,
    ),
    _s(
        "INSIGHT_FLUSH_EVENTS",
        "int",
        10_000,
        "coalescing window in records: profiles of users changed within it are published "
        "once when it closes (as replay --flush-events; must match it for run == replay)",
        minimum=1,
        maximum=10_000_000,
    ),
    _s(
        "INSIGHT_MAX_TASK_IDLE_MS",
        "int",
        500,
        "how long the event-time merge waits for a caught-up partition with nothing "
        "buffered before going on without it (Kafka Streams' max.task.idle.ms); a "
        "partition behind its high watermark is always waited for",
        minimum=0,
        maximum=3_600_000,
    ),
    _s(
        "INSIGHT_MAX_BUFFERED",
        "int",
        20_000,
        "records buffered per input partition in the merge; a full partition is paused",
        minimum=10,
        maximum=10_000_000,
    ),
    _s(
        "INSIGHT_SETTLE_INTERVAL_MS",
        "int",
        5000,
        "once caught up, re-publish the whole open window at most this often, so the "
        "profile topic holds what a replay gives",
        minimum=0,
        maximum=3_600_000,
    ),
    _s(
        "INSIGHT_ON_OFFSET_LOSS",
        "choice",
        "fail",
        "a checkpointed offset beyond the end of its partition (broker lost its data, topic "
        "recreated): fail = stop with exit 4 naming the partition; reset-earliest = keep the "
        "state and read the partition from its start",
        choices=("fail", "reset-earliest"),
    ),
    _s(
        "INSIGHT_CHANGELOG",
        "bool",
        True,
        "write changed user state to <group>.state-changelog each commit and restore "
        "partitions without local state from it (else they are rebuilt from the input)",
    ),
    _s(
        "INSIGHT_ACKS",
        "choice",
        "all",
        "producer acks: all (durable, idempotent) or 1 (faster, may lose on leader failover)",
        choices=("all", "1"),
    ),
    _s(
        "INSIGHT_LINGER_MS",
        "int",
        20,
        "producer linger: larger batches, fewer requests",
        minimum=0,
        maximum=10_000,
    ),
    _s(
        "INSIGHT_PRODUCE_TIMEOUT_S",
        "float",
        0.0,
        "give up (exit 3, nothing committed) when produce keeps failing this long; "
        "0 = retry broker errors forever",
        minimum=0,
    ),
    _s(
        "INSIGHT_SESSION_TIMEOUT_MS",
        "int",
        10_000,
        "consumer group session timeout",
        minimum=1000,
        maximum=3_600_000,
    ),
    _s(
        "INSIGHT_HEARTBEAT_INTERVAL_MS",
        "int",
        3000,
        "consumer group heartbeat interval (< session timeout)",
        minimum=100,
        maximum=3_600_000,
    ),
    _s(
        "INSIGHT_IDLE_ADVANCE_S",
        "float",
        0.0,
        "when input is idle this long, advance stream time by the idle wall time so "
        "inactivity timers fire; 0 = off (pure event time, reproducible)",
        minimum=0,
    ),
    _s(
        "INSIGHT_METRICS_PORT",
        "int",
        9108,
        "port of /metrics, /healthz, /readyz; 0 = off",
        minimum=0,
        maximum=65535,
    ),
    _s("INSIGHT_METRICS_HOST", "str", "0.0.0.0", "interface of the metrics/health server"),
    _s(
        "INSIGHT_STALL_TIMEOUT_S",
        "float",
        30.0,
        "/healthz fails when the poll loop has not run for this long",
        minimum=1,
    ),
    _s("INSIGHT_LOG_FORMAT", "choice", "text", "log format", choices=("text", "json")),
    _s(
        "INSIGHT_LOG_LEVEL",
        "choice",
        "INFO",
        "log level",
        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
    ),
    _s(
        "INSIGHT_SECURITY_PROTOCOL",
        "choice",
        "PLAINTEXT",
        "Kafka security protocol",
        choices=SECURITY_PROTOCOLS,
    ),
    _s(
        "INSIGHT_SASL_MECHANISM",
        "choice",
        None,
        "SASL mechanism (required with SASL_*)",
        choices=SASL_MECHANISMS,
    ),
    _s("INSIGHT_SASL_USERNAME", "str", None, "SASL username (PLAIN/SCRAM)"),
    _s("INSIGHT_SASL_PASSWORD", "str", None, "SASL password (PLAIN/SCRAM)", secret=True),
    _s("INSIGHT_SSL_CAFILE", "file", None, "CA bundle to verify the brokers (SSL/SASL_SSL)"),
    _s("INSIGHT_SSL_CERTFILE", "file", None, "client certificate (mutual TLS)"),
    _s("INSIGHT_SSL_KEYFILE", "file", None, "client private key (mutual TLS)"),
    # -- hostile input: limits checked at decode and by the engine --
    _s(
        "INSIGHT_MAX_FUTURE_SKEW",
        "duration",
        "1d",
        "DLQ (future_timestamp) events whose ts is this far ahead of the wall clock; "
        "e.g. 1d, 6h, 90s, 500ms or seconds; 0 = off",
        maximum=3650 * 86_400_000,
    ),
    _s(
        "INSIGHT_MIN_EVENT_TS",
        "timestamp",
        "2000-01-01",
        "DLQ (too_old) events before this event time; ISO-8601 (UTC) or epoch ms",
    ),
    _s(
        "INSIGHT_MAX_RECORD_BYTES",
        "int",
        65_536,
        "DLQ (too_large) records longer than this, unparsed; the DLQ copy keeps this many bytes",
        minimum=64,
        maximum=64 << 20,
    ),
    _s(
        "INSIGHT_ALLOWED_LATENESS",
        "duration",
        "1h",
        "an event this far behind stream time is late (see INSIGHT_LATE_POLICY); e.g. 1h, 30m",
        maximum=3650 * 86_400_000,
    ),
    _s(
        "INSIGHT_LATE_POLICY",
        "choice",
        "fold",
        "late events: fold (fold in, never move stream time, count) or dlq (error_type late)",
        choices=("fold", "dlq"),
    ),
    # -- privacy and interactive queries (docs/privacy.md, docs/queries.md) --
    _s(
        "INSIGHT_PSEUDONYMIZE_KEY",
        "str",
        None,
        "secret (>= 16 chars): replace user ids by HMAC-SHA256(key, id) hex at decode; "
        "replay needs the same key in its environment",
        secret=True,
    ),
    _s(
        "INSIGHT_ADVERTISED_HTTP",
        "str",
        None,
        "host:port other instances name when a /users query reaches the wrong instance",
    ),
)
"""Every runtime setting; env names are the public interface used by docker-compose."""

BY_ENV: dict[str, Setting] = {s.env: s for s in SETTINGS}


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
    flush_events: int
    max_task_idle_ms: int
    max_buffered: int
    settle_interval_ms: int
    on_offset_loss: str
    changelog: bool
    acks: str
    linger_ms: int
    produce_timeout_s: float
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
    def output_topics(self) -> tuple[str, str, str]:
        return (self.profiles_topic, self.alerts_topic, self.dlq_topic)

    @property
    def changelog_topic(self) -> str:
        """``<group>.state-changelog``, characters a topic name cannot hold replaced by ``_``.

        >>> load_config({"INSIGHT_GROUP_ID": "shop insights"}).changelog_topic
        'shop_insights.state-changelog'
        """
        return re.sub(r"[^A-Za-z0-9._-]", "_", self.group_id)[:230] + ".state-changelog"

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


def _parse_bool(text: str) -> bool:
    low = text.strip().lower()
    if low in ("1", "true", "yes", "on"):
        return True
    if low in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"expected true/false, got {text!r}")


def _parse(setting: Setting, raw: Any) -> Any:
    """Parse one raw value (env string or flag value) for ``setting``; raises ValueError."""
    if raw is None or (isinstance(raw, str) and raw.strip() == "" and setting.default is None):
        return None
    kind = setting.kind
    if kind == "bool":
        return raw if isinstance(raw, bool) else _parse_bool(str(raw))
    if kind in ("int", "float"):
        conv: Callable[[Any], Any] = int if kind == "int" else float
        try:
            value = conv(str(raw).strip()) if isinstance(raw, str) else conv(raw)
        except ValueError:
            raise ValueError(f"expected a number, got {raw!r}") from None
        if value != value:  # NaN
            raise ValueError("expected a number, got NaN")
        if setting.minimum is not None and value < setting.minimum:
            raise ValueError(f"must be >= {setting.minimum:g}, got {value}")
        if setting.maximum is not None and value > setting.maximum:
            raise ValueError(f"must be <= {setting.maximum:g}, got {value}")
        return value
    text = str(raw).strip()
    if kind == "duration":
        return _parse_duration(setting, text)
    if kind == "timestamp":
        try:
            return to_epoch_ms(int(text) if text.lstrip("-").isdigit() else text)
        except ValueError:
            raise ValueError(f"expected ISO-8601 or epoch ms, got {text!r}") from None
    if kind == "choice":
        match = {c.lower(): c for c in setting.choices}.get(text.lower())
        if match is None:
            raise ValueError(f"must be one of {', '.join(setting.choices)}, got {text!r}")
        return match
    if kind == "topic":
        if not _TOPIC_RE.match(text) or text in (".", ".."):
            raise ValueError(f"not a legal Kafka topic name: {text!r} (letters, digits, . _ -)")
        return text
    if kind == "path":
        if not text:
            raise ValueError("must not be empty")
        return Path(text)
    if kind == "file":
        if not Path(text).is_file():
            raise ValueError(f"file not found: {text}")
        return text
    if not text:
        raise ValueError("must not be empty")
    return text


def parse_duration(text: str) -> int:
    """``1d``, ``12h``, ``30m``, ``90s``, ``500ms`` or a bare number of seconds -> ms.

    >>> parse_duration("1d"), parse_duration("90"), parse_duration("250ms")
    (86400000, 90000, 250)
    """
    match = _DURATION_RE.match(text.strip().lower())
    if match is None:
        raise ValueError(f"expected a duration (1d, 12h, 30m, 90s, 500ms or seconds), got {text!r}")
    return round(float(match.group(1)) * _UNIT_MS[match.group(2) or "s"])


def _parse_duration(setting: Setting, text: str) -> int:
    value = parse_duration(text)
    if setting.maximum is not None and value > setting.maximum:
        raise ValueError(f"must be <= {setting.maximum / 86_400_000:g}d, got {text!r}")
    return value


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
    insight_stream.runtime.config.ConfigError: invalid settings:
      INSIGHT_PARTITIONS (--partitions): expected a number, got 'zero'
    """
    env = os.environ if env is None else env
    overrides = overrides or {}
    values: dict[str, Any] = {}
    errors: list[str] = []
    for s in SETTINGS:
        raw = overrides.get(s.field)
        if raw is None:
            raw = env.get(s.env)
        if raw is None and s.kind in PARSED_DEFAULTS:
            raw = s.default
        try:
            values[s.field] = s.default if raw is None else _parse(s, raw)
            if s.kind == "path" and isinstance(values[s.field], str):
                values[s.field] = Path(values[s.field])
        except ValueError as exc:
            errors.append(f"{s.label}: {exc}")
    if not errors:
        errors.extend(_cross_checks(values))
    if errors:
        raise ConfigError("invalid settings:\n  " + "\n  ".join(errors))
    return RuntimeConfig(**values)


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
            for f in ("sasl_username", "sasl_password"):
                if not v[f]:
                    errors.append(f"{label[f]}: required with SASL mechanism {mech}")
    elif v["sasl_mechanism"]:
        errors.append(
            f"{label['sasl_mechanism']}: needs {label['security_protocol']} "
            "SASL_PLAINTEXT or SASL_SSL"
        )
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
    """Add one flag per setting to an argparse parser; help shows the env name and default."""
    for s in SETTINGS:
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
        s.field: getattr(args, s.field, None)
        for s in SETTINGS
        if getattr(args, s.field, None) is not None
    }


def config_field_names() -> list[str]:
    """Dataclass fields, for the test that SETTINGS and RuntimeConfig agree."""
    return [f.name for f in fields(RuntimeConfig)]
