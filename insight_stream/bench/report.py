"""The flat ``bench --json`` schema (``version`` 1), shared by every bench mode.

Every report has ``version`` (1) and ``mode`` (``engine``, ``kafka``, ``latency``,
``scale``, ``restore``). Keys present per mode (absent keys do not apply to the mode):

* engine: ``events``, ``users``, ``events_per_s``, ``bytes_per_user`` (as held: idle users
  packed), ``bytes_per_user_unpacked``, ``packed_share``, ``peak_rss_bytes``,
  ``us_total``, ``us_decode``, ``us_process``, ``us_drain`` (µs per event) and one
  ``us_stage_<name>`` per instrumented stage (``stage_events`` > 0), ``dlq``, ``profiles``
  and ``profiles_per_event`` (profile records published), ``shop_*``.
* kafka: ``events``, ``events_per_s`` (engine + runtime), ``raw_events_per_s``, ``ratio``.
* latency (``--kafka --rate``): ``target_rate``, ``achieved_rate``, ``events``,
  ``latency_p50_ms``, ``latency_p90_ms``, ``latency_p99_ms``, ``latency_max_ms``,
  ``latency_mean_ms`` (to the profile record's Kafka timestamp), the same with
  ``seen_latency_*`` (to the bench consumer's receipt), ``profiles``, ``profiles_matched``,
  ``lag_at_end``, ``lag_max``, ``catch_up_s``, ``kept_up``, ``runtime_*`` settings.
* scale: ``scale_days`` and ``rows``, a list of ``{users, active_users, events,
  events_per_s, us_per_event, bytes_per_user, bytes_per_user_unpacked, packed_share,
  peak_rss_bytes, profiles_per_event}`` (the one nested key).
* restore: the restore report's keys (``users_per_s`` and ``seconds`` per stage).
"""

from __future__ import annotations

from typing import Any

VERSION = 1


def _flatten(prefix: str, d: dict[str, Any]) -> dict[str, Any]:
    return {f"{prefix}{k.replace(' ', '_')}": v for k, v in d.items()}


def flat_report(mode: str, report: dict[str, Any]) -> dict[str, Any]:
    """``report`` of one bench mode as the flat, versioned ``--json`` document."""
    out: dict[str, Any] = {"version": VERSION, "mode": mode}
    for key, value in report.items():
        if key == "mode":
            continue
        if key == "us_per_event":
            stages = value.get("stages_instrumented") or {}
            out.update({f"us_{k}": v for k, v in value.items() if k != "stages_instrumented"})
            out.update(
                {f"us_stage_{k.split(' (')[0].replace(' ', '_')}": v for k, v in stages.items()}
            )
        elif key == "shop":
            out.update(_flatten("shop_", value))
        elif key in ("latency_ms", "seen_latency_ms"):
            name = key.removesuffix("_ms")
            out.update({f"{name}_{k}_ms": v for k, v in value.items()})
        elif key == "runtime":
            out.update(_flatten("runtime_", value))
        elif key == "days" and mode == "scale":
            out["scale_days"] = value
        else:
            out[key] = value
    return out
