"""Pseudonymous user ids: replace ``user_id`` at the edge, before anything is stored or sent.

With ``INSIGHT_PSEUDONYMIZE_KEY`` set, every source (``run`` on Kafka, ``replay`` on files)
passes each decoded event through :meth:`Pseudonymizer.event`, so state, checkpoints, the
changelog, profiles and alerts only ever see ``HMAC-SHA256(key, user_id)`` in hex (64
characters, within the id limit). A downstream team holding the key maps its own ids the
same way (``hmac.new(key, uid.encode(), "sha256").hexdigest()``); without the key the
pseudonym cannot be reversed or recomputed. Kafka partitions stay chosen by the producer's
key (the original id), so ownership is decided by the record's partition, never rehashed.
"""

from __future__ import annotations

import hmac

from insight_stream.events.inputs import Event

KEY_ENV = "INSIGHT_PSEUDONYMIZE_KEY"
MIN_KEY_CHARS = 16


class Pseudonymizer:
    """Keyed, deterministic id replacement (same key + id -> same pseudonym everywhere).

    >>> p = Pseudonymizer("0123456789abcdef")
    >>> p.id("u1") == p.id("u1") != Pseudonymizer("fedcba9876543210").id("u1"), len(p.id("u1"))
    (True, 64)
    """

    __slots__ = ("_key",)

    def __init__(self, key: str) -> None:
        if len(key) < MIN_KEY_CHARS:
            raise ValueError(
                f"{KEY_ENV} must be at least {MIN_KEY_CHARS} characters (got {len(key)}); "
                "use a random secret, e.g. `openssl rand -hex 32`"
            )
        self._key = key.encode()

    def id(self, user_id: str) -> str:
        return hmac.digest(self._key, user_id.encode(), "sha256").hex()

    def event(self, ev: Event) -> Event:
        """``ev`` with its user id replaced (events are frozen: a shallow copy)."""
        return ev.model_copy(update={"user_id": self.id(ev.user_id)})

    def __repr__(self) -> str:
        return "Pseudonymizer(<key>)"
