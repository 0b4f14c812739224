"""Interactive queries against two running ``insight-stream run`` instances of one group:
a user's live profile is the profile topic's last record for that user, segments carry
portraits and sizes, bad ids get 400, unknown users 404, and a user held by the other
instance gets 404 naming its partition and the owner's advertised address."""

from __future__ import annotations

import os
import urllib.parse
from pathlib import Path
from typing import Any

import orjson
import pytest

from insight_stream.events.pseudonym import Pseudonymizer
from insight_stream.processor.partitioning import partition_for
from insight_stream.runtime.broker import free_port
from insight_stream.runtime.reader import latest_by_key, read_topic

from .support import Proc, feed_shop, runtime_env, settled, sum_metric

pytestmark = pytest.mark.integration

PARTITIONS = 4  # per input topic (the broker auto-creates them so); 8 assigned in all


def _get(proc: Proc, path: str) -> tuple[int, Any]:
    code, body = proc.get(path)
    return code, orjson.loads(body) if body else None


def _settled_pair(a: Proc, b: Proc) -> bool:
    """Both instances caught up, the group's partitions split between them."""
    total = 0
    for proc in (a, b):
        _, text = proc.get("/metrics")
        assigned = sum_metric(text, "insight_stream_assigned_partitions")
        if not assigned or sum_metric(text, "insight_stream_settled") != 1:
            return False
        if sum_metric(text, "insight_stream_consumer_lag_records") != 0:
            return False
        total += assigned
    return total == 2 * PARTITIONS


@pytest.mark.parametrize(
    "key", [None, "a-secret-of-at-least-16-chars"], ids=["plain", "pseudonymous"]
)
def test_queries_on_two_instances(
    tansu_broker: str, start_processor: Any, tmp_path: Path, key: str | None
) -> None:
    """Half the partitions move from a to b (restored from the changelog); with pseudonymous
    ids too, ownership follows the records' partitions and queries take the producer's id."""
    prefix = f"q{os.getpid()}{'p' if key else ''}"
    _, shop = feed_shop(tansu_broker, prefix, users=150, days=30, seed=5)
    pz = Pseudonymizer(key) if key else None
    raw_of = {pz.id(c.uid) if pz else c.uid: c.uid for c in shop.customers}
    extra = {"INSIGHT_PSEUDONYMIZE_KEY": key} if key else {}
    procs = []
    for name in ("a", "b"):
        port = free_port()
        env = runtime_env(
            tansu_broker,
            prefix,
            tmp_path / name,
            INSIGHT_COMMIT_INTERVAL_MS="300",
            INSIGHT_METRICS_PORT=str(port),
            INSIGHT_ADVERTISED_HTTP=f"127.0.0.1:{port}",
            **extra,
        )
        procs.append(start_processor(env))
        if name == "a":  # a takes every partition and folds it all; b's join moves half
            procs[0].wait_for(lambda: settled(procs[0]), "a alone settled", timeout=240)
    a, b = procs
    a.wait_for(lambda: _settled_pair(a, b), "both instances settled", timeout=240)
    a.wait_for(lambda: _markers_name_both(a, b), "owners known to each other", timeout=60)

    published = latest_by_key(read_topic(tansu_broker, f"{prefix}.profiles"))
    assert len(published) >= 100
    served = {"a": 0, "b": 0}
    assert set(published) <= set(raw_of)  # published under the pseudonym when keyed
    for alias, want in sorted(published.items()):
        assert want is not None
        uid = raw_of[alias]  # queries take the id the producer keys by
        quoted = "/users/" + urllib.parse.quote(uid, safe="")
        code_a, got_a = _get(a, quoted)
        code_b, got_b = _get(b, quoted)
        # exactly one instance holds the user; it serves the topic's last record
        assert sorted([code_a, code_b]) == [200, 404], uid
        here, got, miss = (a, got_a, got_b) if code_a == 200 else (b, got_b, got_a)
        served["a" if here is a else "b"] += 1
        assert got == want
        part = partition_for(uid, PARTITIONS)
        assert miss == {
            "error": "not_owned",
            "partition": part,
            "owner": {"instance": miss["owner"]["instance"], "http": f"127.0.0.1:{here.port}"},
        }
    assert served["a"] and served["b"]

    # segments: portraits and sizes; the sizes over both instances count every segmented user
    sizes: dict[int, int] = {}
    for proc in (a, b):
        code, view = _get(proc, "/segments")
        assert code == 200 and view["status"] == "ready"
        for seg in view["segments"]:
            assert seg["name"] and seg["description"] and seg["action"]
            sizes[seg["id"]] = sizes.get(seg["id"], 0) + seg["size"]
    by_segment: dict[int, int] = {}
    for profile in published.values():
        assert profile is not None
        if profile["segment"] is not None:
            sid = profile["segment"]["id"]
            by_segment[sid] = by_segment.get(sid, 0) + 1
    assert {s: n for s, n in sizes.items() if n} == by_segment

    # unknown users 404 on their owner; malformed ids 400, with the event id rules
    owned = _owned(a)
    unknown = next(f"nobody{i}" for i in range(1000) if _probe_part(f"nobody{i}") in owned)
    assert _get(a, f"/users/{unknown}") == (
        404,
        {"error": "unknown_user", "partition": partition_for(unknown, PARTITIONS)},
    )
    for bad in ("", "x" * 257, "%ff%fe"):
        code, body = _get(a, f"/users/{bad}")
        assert code == 400 and body["error"] == "invalid_user_id", bad
    assert a.terminate() == 0 and b.terminate() == 0


def _owned(proc: Proc) -> set[int]:
    """Partitions ``proc`` holds: those whose users it does not send elsewhere."""
    out = set()
    for part in range(PARTITIONS):
        uid = _probe(part)
        code, body = _get(proc, f"/users/{uid}")
        if code == 404 and body["error"] == "unknown_user":
            out.add(part)
    return out


def _markers_name_both(a: Proc, b: Proc) -> bool:
    """Every partition's owner is named by the other instance (markers written, cache fresh)."""
    return len(_owned(a)) + len(_owned(b)) == PARTITIONS and all(
        _probe_owner(p, q) for p, q in ((a, b), (b, a))
    )


def _probe_owner(proc: Proc, other: Proc) -> bool:
    for part in set(range(PARTITIONS)) - _owned(proc):
        uid = _probe(part)
        _, body = _get(proc, f"/users/{uid}")
        if not body.get("owner") or body["owner"]["http"] != f"127.0.0.1:{other.port}":
            return False
    return True


def _probe_part(uid: str) -> int:
    return partition_for(uid, PARTITIONS)


def _probe(part: int) -> str:
    """An id no shop user has, on input partition ``part``."""
    return next(f"probe{i}" for i in range(10_000) if _probe_part(f"probe{i}") == part)
