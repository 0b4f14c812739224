"""The table of runtime settings: every ``INSIGHT_*`` variable ``run`` reads, declared once.

Each :class:`Setting` names its env variable, flag, type, default and help, so the CLI
``--help``, validation and the docker-compose wiring test cannot drift apart. Parsing and
loading live in :mod:`insight_stream.runtime.config`.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

SECURITY_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER", "GSSAPI")


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
    env_only: bool = False  # no flag: e.g. a password, which a command line would show in ps

    @property
    def flag(self) -> str:
        return "--" + self.field.replace("_", "-")

    @property
    def label(self) -> str:
        return self.env if self.env_only else f"{self.env} ({self.flag})"


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
        "INSIGHT_LIVE_COMMIT_INTERVAL_MS",
        "int",
        250,
        "commit every N ms instead while live (within INSIGHT_FLUSH_EVENTS records of the "
        "input's end), so profiles reach the topic sooner; a backlog keeps the longer "
        "INSIGHT_COMMIT_INTERVAL_MS (fewer checkpoint and changelog writes)",
        minimum=10,
        maximum=600_000,
    ),
    _s(
        "INSIGHT_FLUSH_EVENTS",
        "int",
        10_000,
        "coalescing window in records (the group's; it closes at the next event-time hour "
        "boundary): profiles of users changed within it are published once when it closes "
        "(as replay --flush-events; must match it for run == replay)",
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
        "INSIGHT_CHANGELOG_SNAPSHOT_RECORDS",
        "int",
        2000,
        "snapshot a changelog partition (all its users in ~256 KiB records, so a restore "
        "reads from there) once this many per-user records, and at least half its users, "
        "were written to it since its last snapshot",
        minimum=1,
    ),
    _s(
        "INSIGHT_SHARE_MODELS",
        "bool",
        True,
        "share the models (segments, neighbours, churn population) across the group: each "
        "instance publishes its hourly model epochs to <group>.model-ops and applies every "
        "instance's, so all hold the models one engine folding everything would",
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
        "INSIGHT_BROKER_TIMEOUT_S",
        "float",
        60.0,
        "no broker reachable at start for this long: exit 5 naming the address; broker "
        "lost after start for this long: /healthz turns 503 (the process keeps retrying)",
        minimum=0.1,
        maximum=86_400,
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
    _s(
        "INSIGHT_SASL_PASSWORD",
        "str",
        None,
        "SASL password (PLAIN/SCRAM); environment only, never a flag (visible in ps)",
        secret=True,
        env_only=True,
    ),
    _s(
        "INSIGHT_SASL_PASSWORD_FILE",
        "file",
        None,
        "file holding the SASL password (e.g. a mounted secret); instead of INSIGHT_SASL_PASSWORD",
    ),
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

OTHER_ENV = frozenset(
    {
        "INSIGHT_ENGINE_CONFIG",  # engine settings file (insight_stream.processor.engine_file)
        "INSIGHT_TANSU_BIN",  # embedded broker binary (runtime/broker.py)
    }
)
"""``INSIGHT_*`` variables read outside this table; everything else must be in it."""
OTHER_PREFIXES = ("INSIGHT_ENGINE__",)  # INSIGHT_ENGINE__SECTION__KEY engine overrides


def unknown_env_errors(env: Mapping[str, str]) -> list[str]:
    """One message per ``INSIGHT_*`` variable nobody reads, naming the closest real one.

    A typo (``INSIGHT_BATCH_SIZ``) would otherwise be ignored silently and the default used.

    >>> unknown_env_errors({"INSIGHT_BATCH_SIZ": "9", "INSIGHT_BATCH_SIZE": "9", "HOME": "/"})
    ['INSIGHT_BATCH_SIZ: unknown setting; did you mean INSIGHT_BATCH_SIZE?']
    """
    known = [*BY_ENV, *sorted(OTHER_ENV)]
    errors = []
    for name in sorted(env):
        if not name.startswith("INSIGHT_") or name in BY_ENV or name in OTHER_ENV:
            continue
        if name.startswith(OTHER_PREFIXES):
            continue
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]}?" if close else "see insight-stream run --help"
        errors.append(f"{name}: unknown setting; {hint}")
    return errors
