"""Model versions: a short hash of every shared model, taken at each event-time day start.

Instances of one group that learned the same models hold the same versions at the same
boundary, whatever their speed or restarts; instances that learned different models (each
from its own partitions, as today: issue 8) show it. The hash is taken *before* the
boundary's refits, from the models as every event of the previous days left them, so it
does not depend on which event happened to open the new day. Versions are derived, not
checkpointed: a restored engine reports its first version at the next boundary.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from insight_stream.processor.processor import Processor

MODELS = ("churn", "segments", "recs")


def _digest(parts: list[bytes]) -> str:
    h = hashlib.blake2b(digest_size=8)
    for part in parts:
        h.update(len(part).to_bytes(4, "little"))
        h.update(part)
    return h.hexdigest()


def _churn(proc: Processor) -> list[bytes]:
    churn = proc.churn
    return [repr((churn.params, churn.fingerprint())).encode()]


def _segments(proc: Processor) -> list[bytes]:
    seg = proc.segments
    centres = {} if seg.km is None else seg.km.centers
    rows = [
        (cid, sorted(centre.items()))
        for cid, centre in sorted(centres.items())  # river keeps features as dict entries
    ]
    return [repr((seg.mean, seg.std, seg.next_id, rows)).encode()]


def _recs(proc: Processor) -> list[bytes]:
    """Neighbour tables of the three co-occurrence reaches, and the popularity shares."""
    recs = proc.recs
    parts: list[bytes] = []
    for lists in (recs.cooc.lists, recs.session.lists, recs.follow.lists):
        for item in sorted(lists):
            ids, sims = lists[item]
            parts += (item.encode(), "\x00".join(ids).encode(), sims.tobytes())
    shares = recs.popular.shares
    for key in sorted(shares, key=lambda s: (s is not None, s or 0)):
        parts.append(repr((key, sorted(shares[key].items()))).encode())
    return parts


def model_versions(proc: Processor) -> dict[str, str]:
    """``{model: 16-hex-digit hash}`` of the processor's shared models as they are now.

    >>> from insight_stream.processor import Processor
    >>> v = model_versions(Processor())
    >>> sorted(v) == sorted(MODELS), v == model_versions(Processor())
    (True, True)
    """
    return {
        "churn": _digest(_churn(proc)),
        "segments": _digest(_segments(proc)),
        "recs": _digest(_recs(proc)),
    }
