"""What the simulator decided up front: the answers an evaluation scores the engine against."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class UserTruth:
    """One customer's hidden facts.

    ``churn_ts`` is the event time at which the user churns (``None``: active until
    the end of the window): in an ``abrupt`` world they send nothing after it; in a
    ``gradual`` world their visits thin out from it and stop entirely at ``gone_ts``.
    ``signup_ts`` is the time of their first event.
    """

    type: str
    churn_ts: int | None
    signup_ts: int
    demographics: dict[str, str] | None = None
    gone_ts: int | None = None


@dataclass
class GroundTruth:
    """Latent types, churn times, catalog, complements and staples of a simulated shop.

    The world's settings (number of types, complement mode and lag, churn fade,
    catalogue kind) are in ``config``; :meth:`later_complements` says whether
    complements are (also) bought in later orders.

    ``malformed`` is filled in while :meth:`Shop.events` runs (0 before);
    ``staples`` maps a user to the favourite items they rebuy (users without: absent).

    Examples
    --------
    >>> t = GroundTruth(users={"u00001": UserTruth("bargain_hunter", None, 5)},
    ...                 types=["bargain_hunter"], complements=[("i0001", "i0002")],
    ...                 items={"i0001": ("books", 9.99)}, start_ms=0, end_ms=10,
    ...                 staples={"u00001": ["i0001"]})
    >>> GroundTruth.from_json(t.to_json()) == t
    True
    >>> t.churned()
    set()
    """

    users: dict[str, UserTruth]
    types: list[str]
    complements: list[tuple[str, str]]
    items: dict[str, tuple[str, float]]
    start_ms: int
    end_ms: int
    malformed: int = 0
    config: dict[str, object] = field(default_factory=dict)
    staples: dict[str, list[str]] = field(default_factory=dict)

    def churned(self, before: int | None = None) -> set[str]:
        """Users whose ``churn_ts`` falls before ``before`` (default: the end of the window)."""
        limit = self.end_ms if before is None else before
        return {u for u, t in self.users.items() if t.churn_ts is not None and t.churn_ts < limit}

    def later_complements(self) -> bool:
        """True when the world plants complements bought in a later order."""
        return self.config.get("complements", "mixed") in ("mixed", "later")

    def to_json(self) -> dict[str, object]:
        """A JSON-ready dict (``truth.json``); ``gone_ts`` only for gradual churners."""
        return {
            "start_ms": self.start_ms,
            "end_ms": self.end_ms,
            "malformed": self.malformed,
            "types": list(self.types),
            "complements": [list(p) for p in self.complements],
            "items": {i: [c, p] for i, (c, p) in self.items.items()},
            "users": {u: _user_json(t) for u, t in self.users.items()},
            "config": dict(self.config),
            "staples": {u: list(items) for u, items in self.staples.items()},
        }

    @classmethod
    def from_json(cls, data: dict) -> GroundTruth:
        """Inverse of :meth:`to_json`."""
        return cls(
            users={
                u: UserTruth(
                    t["type"],
                    t["churn_ts"],
                    t["signup_ts"],
                    t.get("demographics"),
                    t.get("gone_ts"),
                )
                for u, t in data["users"].items()
            },
            types=list(data["types"]),
            complements=[(a, b) for a, b in data["complements"]],
            items={i: (c, float(p)) for i, (c, p) in data["items"].items()},
            start_ms=int(data["start_ms"]),
            end_ms=int(data["end_ms"]),
            malformed=int(data.get("malformed", 0)),
            config=dict(data.get("config", {})),
            staples={u: list(items) for u, items in data.get("staples", {}).items()},
        )


def _user_json(t: UserTruth) -> dict[str, object]:
    out: dict[str, object] = {
        "type": t.type,
        "churn_ts": t.churn_ts,
        "signup_ts": t.signup_ts,
        "demographics": t.demographics,
    }
    if t.gone_ts is not None:
        out["gone_ts"] = t.gone_ts
    return out
