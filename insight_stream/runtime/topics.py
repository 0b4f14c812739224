"""Topic admin at start-up: create what is missing, refuse to run on topics that do not fit.

Per-user state is partitioned like the input, so both input topics and the outputs must
have the same partition count: the range assignor then gives partition *p* of every input
to one instance and a user's events and profile share *p*. A mismatch would silently split
a user's state, which is why it is a hard start-up error rather than a warning.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable
from typing import Any

from kafka import KafkaAdminClient
from kafka.admin import ConfigResource, ConfigResourceType
from kafka.errors import KafkaError, TopicAlreadyExistsError

from insight_stream.runtime.config import RuntimeConfig

log = logging.getLogger(__name__)


class TopicMismatchError(RuntimeError):
    """Existing topics do not fit the configuration; the message says what and how to fix it."""


def topic_specs(cfg: RuntimeConfig) -> dict[str, dict[str, Any]]:
    """Every topic the runtime uses -> create options (profiles and changelog are compacted)."""
    base = {"num_partitions": cfg.partitions, "replication_factor": cfg.replication_factor}
    names = (*cfg.input_topics, *cfg.output_topics)
    if cfg.changelog:
        names += (cfg.changelog_topic,)
    if cfg.share_models:
        names += (cfg.model_topic,)
    specs: dict[str, dict[str, Any]] = {t: dict(base) for t in names}
    specs[cfg.profiles_topic]["configs"] = {"cleanup.policy": "compact"}
    if cfg.changelog:
        specs[cfg.changelog_topic]["configs"] = {"cleanup.policy": "compact"}
    return specs


def describe_partitions(admin: KafkaAdminClient, topics: Iterable[str]) -> dict[str, int]:
    """Partition counts of the topics that exist (missing topics are left out)."""
    out = {}
    for meta in admin.describe_topics(list(topics)):
        if meta.get("error_code", 0) == 0 and meta.get("partitions"):
            out[meta["name"]] = len(meta["partitions"])
    return out


def create_topics(admin: KafkaAdminClient, specs: dict[str, dict[str, Any]]) -> None:
    """Create topics, tolerating a concurrent creator (another instance starting too)."""
    if not specs:
        return
    with contextlib.suppress(TopicAlreadyExistsError):
        admin.create_topics(specs, timeout_ms=10_000, raise_errors=False)
    log.info("created topics %s", ", ".join(sorted(specs)))


def _cleanup_policy(admin: KafkaAdminClient, topic: str) -> str | None:
    """The broker's ``cleanup.policy`` of ``topic``, or None when it does not report one."""
    try:
        res = admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, topic)], config_filter="all"
        )
    except (KafkaError, ValueError, TypeError) as exc:  # some brokers lack DescribeConfigs
        log.debug("describe_configs(%s) failed: %s", topic, exc)
        return None
    entry = res.get("topic", {}).get(topic, {}).get("cleanup.policy")
    if isinstance(entry, dict):
        return entry.get("value") or entry.get("config_value")
    return entry if isinstance(entry, str) else None


def check_fit(cfg: RuntimeConfig, partitions: dict[str, int]) -> list[str]:
    """Problems with existing topics (empty list = they fit).

    >>> from insight_stream.runtime.config import load_config
    >>> cfg = load_config({})
    >>> check_fit(cfg, {"shop.clickstream": 4, "insight.profiles": 8})[0][:60]
    'topic insight.profiles has 8 partitions but INSIGHT_PARTITIO'
    >>> check_fit(cfg, {"shop.clickstream": 4, "shop.orders": 4})
    []
    """
    problems = []
    for topic, count in sorted(partitions.items()):
        if count != cfg.partitions:
            problems.append(
                f"topic {topic} has {count} partitions but INSIGHT_PARTITIONS (--partitions) is "
                f"{cfg.partitions}; every input and output topic needs the same partition "
                "count (per-user state and profiles are co-partitioned with the input): set "
                "INSIGHT_PARTITIONS to match or repartition the topic"
            )
    return problems


def ensure_topics(admin: KafkaAdminClient, cfg: RuntimeConfig) -> dict[str, int]:
    """Create missing topics (if allowed) and verify all fit; returns partitions per topic.

    Raises :class:`TopicMismatchError` naming each problem; broker errors propagate (the
    caller retries them).
    """
    specs = topic_specs(cfg)
    existing = describe_partitions(admin, specs)
    problems = check_fit(cfg, existing)
    missing = {t: s for t, s in specs.items() if t not in existing}
    if missing and not cfg.create_topics:
        problems.append(
            f"missing topics {', '.join(sorted(missing))} and INSIGHT_CREATE_TOPICS is false: "
            "create them or enable topic creation"
        )
    if problems:
        raise TopicMismatchError("topics do not fit this deployment:\n  " + "\n  ".join(problems))
    create_topics(admin, missing)
    policy = _cleanup_policy(admin, cfg.profiles_topic)
    if policy is not None and "compact" not in policy:
        raise TopicMismatchError(
            f"topic {cfg.profiles_topic} has cleanup.policy={policy}; it must be compacted "
            "(profiles are keyed by user_id and only the latest matters)"
        )
    final = describe_partitions(admin, specs)
    still_missing = sorted(set(specs) - set(final))
    if still_missing:
        raise KafkaError(f"topics not visible yet after creation: {', '.join(still_missing)}")
    return final
