#!/bin/bash
# One-shot topic creation for the compose demo (the broker has auto-create off).
# Idempotent: --if-not-exists, so `docker compose up` can be re-run.
set -euo pipefail

BOOTSTRAP="${BOOTSTRAP:-kafka:19092}"
PARTITIONS="${PARTITIONS:-6}"
REPLICATION="${REPLICATION:-1}"
TOPICS=/opt/kafka/bin/kafka-topics.sh

create() {  # create TOPIC [--config k=v ...]
  local topic="$1"
  shift
  "$TOPICS" --bootstrap-server "$BOOTSTRAP" --create --if-not-exists --topic "$topic" \
    --partitions "$PARTITIONS" --replication-factor "$REPLICATION" "$@"
}

create "${CLICKSTREAM_TOPIC:-shop.clickstream}"
create "${ORDERS_TOPIC:-shop.orders}"
# Latest profile per user: compacted, keyed by user_id.
create "${PROFILES_TOPIC:-insight.profiles}" --config cleanup.policy=compact \
  --config min.compaction.lag.ms=60000 --config segment.ms=600000
create "${ALERTS_TOPIC:-insight.churn-alerts}" --config retention.ms=1209600000
create "${DLQ_TOPIC:-insight.dlq}" --config retention.ms=1209600000
# Per-user engine state (docs/checkpointing.md), restored from here when a replica has no
# local copy: compacted, one partition per input partition, as `run` itself would create it.
create "${CHANGELOG_TOPIC:-insight-stream.state-changelog}" --config cleanup.policy=compact
# Every replica's hourly model epochs (docs/checkpointing.md, "Shared models"): read by all
# replicas so they hold one set of models; one partition per input partition, not compacted.
create "${MODEL_TOPIC:-insight-stream.model-ops}"

"$TOPICS" --bootstrap-server "$BOOTSTRAP" --describe
