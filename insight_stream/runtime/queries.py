"""Interactive queries on the metrics port: ``GET /users/{user_id}`` and ``GET /segments``.

Consistency: the loop thread holds :attr:`Runner.lock` while it changes engine state (each
folded event, a restore, a forget, an idle time advance); a query holds it for one lookup
(find the user, build the profile) and serialises outside it. So a query never sees a
half-folded event, processing waits at most one lookup per query, and a query waits at most
one event (rarely a model refit, which runs inside the event that crosses its event-time
boundary). Drains and checkpoints only read what queries read, so they take no lock
(docs/queries.md has the measurements).

Routing: a user lives on the input partition its producer key hashes to (Kafka's default
partitioner). A user this instance does not hold gets 404 with that partition and, when
known, the address its owner advertises (``INSIGHT_ADVERTISED_HTTP``), read from the owner's
last changelog marker (:class:`OwnerDirectory`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

import orjson
from pydantic import ValidationError

from insight_stream.events.decode import describe_validation_error
from insight_stream.events.inputs import USER_ID_ADAPTER
from insight_stream.events.pseudonym import Pseudonymizer
from insight_stream.processor.partitioning import partition_for
from insight_stream.processor.query import segments_view, user_profile

if TYPE_CHECKING:
    from insight_stream.runtime.loop import Runner

log = logging.getLogger(__name__)

JSON = "application/json"
Response = tuple[int, bytes, str, dict[str, str]]  # status, body, content type, headers
OWNER_TTL_S = 5.0
_hash_partition = partition_for.__wrapped__  # uncached: queried ids must not linger in memory


def _json(code: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return code, orjson.dumps(body), JSON, headers or {}


def _timing(t0: float, t1: float, t2: float) -> dict[str, str]:
    """``Server-Timing``: time waiting for the loop's lock, and holding it (ms)."""
    return {"Server-Timing": f"lock;dur={(t1 - t0) * 1e3:.3f}, read;dur={(t2 - t1) * 1e3:.3f}"}


NOT_READY = _json(503, {"error": "not_ready", "message": "no partitions assigned yet"})


class OwnerDirectory:
    """Which instance holds a partition, from the partition's last changelog marker.

    Every instance writes a marker per owned partition at each commit cycle with state to
    save (and once after every assignment), carrying its ``INSIGHT_ADVERTISED_HTTP``. Answers
    are cached for ``OWNER_TTL_S``; one lookup at a time reads the changelog tail.
    Limits: needs the changelog; an answer may be up to one commit cycle (plus the cache)
    stale right after a rebalance; None when no marker names an address.
    """

    def __init__(self, lookup: Callable[[list[int]], dict[int, dict[str, Any]]], me: str) -> None:
        self._lookup, self._me = lookup, me
        self._cache: dict[int, tuple[float, dict[str, Any] | None]] = {}
        self._lock = threading.Lock()

    def owner(self, partition: int) -> dict[str, Any] | None:
        with self._lock:
            hit = self._cache.get(partition)
            if hit is not None and time.monotonic() - hit[0] < OWNER_TTL_S:
                return hit[1]
            try:
                marker = self._lookup([partition]).get(partition)
            except Exception as exc:  # the broker is down: answer without the owner
                log.warning("owner lookup of partition %d failed: %s", partition, exc)
                marker = None
            found = None
            if marker is not None and marker.get("writer") != self._me and marker.get("http"):
                found = {"instance": marker["writer"], "http": marker["http"]}
            self._cache[partition] = (time.monotonic(), found)
            return found


class QueryService:
    """Answers the query routes; attached to the runner once the run loop exists."""

    def __init__(self, pseudonymizer: Pseudonymizer | None = None) -> None:
        self.pseudonymizer = pseudonymizer
        self.runner: Runner | None = None
        self.partitions = 0
        self.owners: OwnerDirectory | None = None

    def attach(self, runner: Runner, partitions: int, owners: OwnerDirectory | None) -> None:
        self.partitions, self.owners = partitions, owners
        self.runner = runner

    def route(self, path: str) -> Response | None:
        """The response for ``path``, or None when it is not a query route."""
        if path == "/segments":
            return self.segments()
        if path.startswith("/users/"):
            return self.user(path[len("/users/") :])
        return None

    def _ready(self) -> Runner | None:
        runner = self.runner
        return runner if runner is not None and runner.owned else None

    def segments(self) -> Response:
        runner = self._ready()
        if runner is None:
            return NOT_READY
        t0 = time.perf_counter()
        with runner.lock:
            t1 = time.perf_counter()
            view = segments_view(runner.processor)  # type: ignore[arg-type]
        return _json(200, view, _timing(t0, t1, time.perf_counter()))

    def user(self, quoted: str) -> Response:
        """200 with the live profile; 400 malformed id; 404 unknown or held elsewhere."""
        try:
            raw_id = USER_ID_ADAPTER.validate_python(unquote(quoted, errors="strict"))
        except UnicodeDecodeError:
            return _json(400, {"error": "invalid_user_id", "message": "id is not UTF-8"})
        except ValidationError as exc:
            message = describe_validation_error(exc).replace("<record>", "user_id")
            return _json(400, {"error": "invalid_user_id", "message": message})
        runner = self._ready()
        if runner is None:
            return NOT_READY
        pz = self.pseudonymizer
        uid = raw_id if pz is None else pz.id(raw_id)
        t0 = time.perf_counter()
        with runner.lock:  # one lookup: the loop waits for at most this
            t1 = time.perf_counter()
            profile = user_profile(runner.processor, uid)  # type: ignore[arg-type]
        timing = _timing(t0, t1, time.perf_counter())
        if profile is not None:
            return 200, orjson.dumps(profile), JSON, timing
        part = _hash_partition(raw_id, self.partitions) if self.partitions else None
        if part is None or part in runner.owned:
            return _json(404, {"error": "unknown_user", "partition": part}, timing)
        owner = self.owners.owner(part) if self.owners is not None else None
        return _json(404, {"error": "not_owned", "partition": part, "owner": owner})
