"""The query routes over live engine state (no Kafka): what they answer and that they only read.

Served for real over HTTP by the health server; end to end against running instances in
tests/integration/test_queries.py.
"""

from __future__ import annotations

import pickle
import threading
import urllib.error
import urllib.request
from types import SimpleNamespace
from typing import Any

import orjson
import pytest

from insight_stream.events import EVENT_ADAPTER
from insight_stream.events.pseudonym import Pseudonymizer
from insight_stream.processor import Processor
from insight_stream.processor.partitioning import partition_for
from insight_stream.runtime.health import HealthServer
from insight_stream.runtime.metrics import Metrics
from insight_stream.runtime.queries import OwnerDirectory, QueryService
from insight_stream.sim import Shop, SimConfig

PARTS = 4


@pytest.fixture(scope="module")
def shop_events() -> list[Any]:
    shop = Shop(SimConfig(users=60, days=40, seed=4))
    return [EVENT_ADAPTER.validate_json(raw) for _, raw in shop.events()]


def service(
    events: list[Any], owned: set[int], pz: Pseudonymizer | None = None, drain: bool = True
) -> tuple[QueryService, Processor]:
    proc = Processor()
    for ev in events:
        proc.process(pz.event(ev) if pz else ev)
    if drain:
        proc.drain()
    runner = SimpleNamespace(lock=threading.Lock(), processor=proc, owned=owned)
    owners = OwnerDirectory(
        lambda parts: {p: {"writer": "other", "http": "h:1"} for p in parts}, "me"
    )
    svc = QueryService(pz)
    svc.attach(runner, PARTS, owners)  # type: ignore[arg-type]
    return svc, proc


def test_a_user_is_what_the_profile_topic_would_carry_now(shop_events: list[Any]) -> None:
    svc, proc = service(shop_events, set(range(PARTS)), drain=False)
    users = sorted(proc.users)
    before = pickle.dumps((proc.users, proc.segments, proc.recs, proc.churn))
    answers = {uid: svc.route(f"/users/{uid}") for uid in users}
    assert pickle.dumps((proc.users, proc.segments, proc.recs, proc.churn)) == before  # reads
    published = proc.drain().profiles  # what the window closing now publishes
    assert sorted(published) == users
    for uid in users:
        code, body, ctype, headers = answers[uid]  # type: ignore[misc]
        assert (code, ctype) == (200, "application/json")
        assert headers["Server-Timing"].startswith("lock;dur=")
        assert body == orjson.dumps(published[uid])


def test_segments_carry_portraits_and_sizes(shop_events: list[Any]) -> None:
    svc, proc = service(shop_events, {0})
    code, body, _, _ = svc.route("/segments")  # type: ignore[misc]
    view = orjson.loads(body)
    assert code == 200 and view["status"] == proc.segments.status == "ready"
    assert {s["id"]: s["size"] for s in view["segments"]} == {
        s: proc.seg_sizes.get(s, 0) for s in proc.segments.portraits()
    }
    assert sum(s["size"] for s in view["segments"]) == sum(proc.seg_sizes.values()) > 0
    assert all(s["name"] and s["description"] and s["action"] for s in view["segments"])


def test_bad_unknown_and_elsewhere(shop_events: list[Any]) -> None:
    svc, _ = service(shop_events, {0, 1})
    for bad in ("", "x" * 257, "%ff"):
        code, body, _, _ = svc.route(f"/users/{bad}")  # type: ignore[misc]
        assert code == 400 and orjson.loads(body)["error"] == "invalid_user_id", bad
    mine = next(f"n{i}" for i in range(100) if partition_for(f"n{i}", PARTS) in (0, 1))
    theirs = next(f"n{i}" for i in range(100) if partition_for(f"n{i}", PARTS) == 3)
    code, body, _, _ = svc.route(f"/users/{mine}")  # type: ignore[misc]
    assert code == 404
    assert orjson.loads(body) == {"error": "unknown_user", "partition": partition_for(mine, 4)}
    code, body, _, _ = svc.route(f"/users/{theirs}")  # type: ignore[misc]
    assert (code, orjson.loads(body)) == (
        404,
        {"error": "not_owned", "partition": 3, "owner": {"instance": "other", "http": "h:1"}},
    )
    assert svc.route("/elsewhere") is None


def test_an_owner_that_is_this_instance_is_not_named() -> None:
    owners = OwnerDirectory(lambda parts: {p: {"writer": "me", "http": "h:1"} for p in parts}, "me")
    assert owners.owner(2) is None


def test_not_ready_before_partitions_are_assigned(shop_events: list[Any]) -> None:
    assert QueryService().route("/segments")[0] == 503  # type: ignore[index]
    svc, _ = service(shop_events[:10], set())
    assert svc.route("/users/u00001")[0] == 503  # type: ignore[index]


def test_pseudonymised_state_is_queried_by_the_producer_id(shop_events: list[Any]) -> None:
    pz = Pseudonymizer("k" * 32)
    svc, proc = service(shop_events, set(range(PARTS)), pz)
    raw = shop_events[0].user_id
    assert raw not in proc.users and pz.id(raw) in proc.users
    code, body, _, _ = svc.route(f"/users/{raw}")  # type: ignore[misc]
    assert code == 200 and orjson.loads(body)["user_id"] == pz.id(raw)


def test_served_over_http_next_to_metrics(shop_events: list[Any]) -> None:
    svc, proc = service(shop_events, set(range(PARTS)))
    uid = sorted(proc.users)[0]
    server = HealthServer(Metrics(), "127.0.0.1", 0, 30.0, routes=svc.route).start()
    try:
        base = f"http://127.0.0.1:{server.port}"
        with urllib.request.urlopen(f"{base}/users/{uid}", timeout=5) as r:
            assert r.status == 200 and orjson.loads(r.read())["user_id"] == uid
        with urllib.request.urlopen(f"{base}/metrics", timeout=5) as r:
            assert r.status == 200
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(f"{base}/users/{'x' * 300}", timeout=5)
        assert err.value.code == 400
    finally:
        server.stop()
