"""Engine settings from a TOML file and ``INSIGHT_ENGINE__*`` variables, validated at once.

The keys are the fields of :class:`~insight_stream.processor.EngineConfig` and its model
configs, so each setting is still declared once (its dataclass field, default and docstring).
The file mirrors the dataclasses: top-level keys are ``EngineConfig``'s own fields, one table
per model (``[profile]``, ``[segments]``, ``[recs]``, ``[churn]``). A variable
``INSIGHT_ENGINE__CHURN__ALERT_THRESHOLD=0.8`` overrides ``[churn] alert_threshold``,
``INSIGHT_ENGINE__TOP_N=5`` the top-level ``top_n``; variables win over the file.

``flush_events``, ``allowed_lateness_ms`` and ``late_policy`` are not engine-file keys: they
are runtime settings (``INSIGHT_FLUSH_EVENTS`` ...) that ``run`` and ``replay`` apply on top,
and one setting must have one place.

:data:`STATE_KEYS` are the settings that change what saved state means; their values are
stored with a checkpoint and a restart with other values is refused (see
``CheckpointStore.check_settings``).
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import tomllib
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from insight_stream.processor.config import EngineConfig

ENGINE_CONFIG_ENV = "INSIGHT_ENGINE_CONFIG"
ENV_PREFIX = "INSIGHT_ENGINE__"
RUNTIME_OWNED: dict[str, str] = {
    "flush_events": "INSIGHT_FLUSH_EVENTS / replay --flush-events",
    "allowed_lateness_ms": "INSIGHT_ALLOWED_LATENESS",
    "late_policy": "INSIGHT_LATE_POLICY",
}
"""Engine fields set by runtime settings instead, and where."""

STATE_KEYS: tuple[str, ...] = (
    "profile.affinity_half_life_days",  # stored category affinities are decayed on this scale
    "segments.k",  # the stored centres and segment ids were chosen under k ...
    "segments.k_range",  # ... or this k range
    "recs.slots",  # learned slot calibrations vs the fixed blend (the recs "preset")
    "recs.half_life_days",  # stored co-occurrence and popularity counts decay on this scale
    "recs.repeat_half_life_days",  # stored per-user purchase counts, likewise
    "churn.time_unit_days",  # fitted BG/NBD parameters are in this unit
    "churn.label_horizon_days",  # pending churn labels sit on a grid of this spacing
    "churn.order_half_life_days",  # stored decayed order-day counts
    "churn.click_half_life_days",  # stored decayed browsing-day counts
)
"""Settings whose change alters the meaning of saved state (checked at restore)."""

NONE = "none"  # how an unset optional value (segments.k) is written in TOML and env


class EngineConfigError(ValueError):
    """One or more engine settings are invalid; the message lists each with its source."""


def sections() -> dict[str, type]:
    """Table name -> model config class (the dataclass-typed fields of EngineConfig)."""
    hints = typing.get_type_hints(EngineConfig)
    return {f.name: hints[f.name] for f in _fields(EngineConfig) if _is_dataclass(hints[f.name])}


def top_level_keys() -> list[str]:
    """EngineConfig's own scalar fields that the file may set."""
    return [
        f.name
        for f in _fields(EngineConfig)
        if f.name not in sections() and f.name not in RUNTIME_OWNED
    ]


def load_engine_config(
    path: Path | str | None = None, env: Mapping[str, str] | None = None
) -> EngineConfig:
    """Defaults <- the TOML file at ``path`` <- ``INSIGHT_ENGINE__*`` in ``env``.

    Raises :class:`EngineConfigError` naming every bad key, its value and where it came from.

    >>> env = {"INSIGHT_ENGINE__CHURN__ALERT_THRESHOLD": "0.9"}
    >>> load_engine_config(env=env).churn.alert_threshold
    0.9
    >>> load_engine_config(env={"INSIGHT_ENGINE__TOP_M": "5"})
    Traceback (most recent call last):
    ...
    insight_stream.processor.engine_file.EngineConfigError: invalid engine settings:
      INSIGHT_ENGINE__TOP_M: unknown key top_m; did you mean INSIGHT_ENGINE__TOP_N?
    """
    errors: list[str] = []
    raw: dict[str, dict[str, tuple[Any, str]]] = {"": {}}  # section -> key -> (value, source)
    if path is not None:
        _read_file(Path(path), raw, errors)
    _read_env(env or {}, raw, errors)
    values: dict[str, dict[str, Any]] = {}
    for section, keys in raw.items():
        cls = EngineConfig if section == "" else sections()[section]
        hints = typing.get_type_hints(cls)
        for key, (value, source) in keys.items():
            try:
                values.setdefault(section, {})[key] = _coerce(value, hints[key])
            except ValueError as exc:
                errors.append(f"{source}: {_dotted(section, key)} = {value!r}: {exc}")
    if errors:
        raise EngineConfigError("invalid engine settings:\n  " + "\n  ".join(errors))
    return _build(values, raw)


def state_settings(cfg: EngineConfig) -> dict[str, Any]:
    """``{dotted key: value}`` of :data:`STATE_KEYS`, JSON-ready (tuples as lists).

    >>> state_settings(EngineConfig())["segments.k_range"]
    [3, 10]
    """
    out: dict[str, Any] = {}
    for dotted in STATE_KEYS:
        section, key = dotted.split(".")
        value = getattr(getattr(cfg, section), key)
        out[dotted] = list(value) if isinstance(value, tuple) else value
    return out


def changed_state_settings(stored: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
    """``key = old there, new now`` for each state-bound key whose value differs (keys one
    side lacks, e.g. added by a newer build, are not a change).

    >>> changed_state_settings({"segments.k": None}, {"segments.k": 5})
    ['segments.k = null there, 5 now']
    """
    return [
        f"{key} = {json.dumps(stored[key])} there, {json.dumps(value)} now"
        for key, value in current.items()
        if key in stored and stored[key] != value
    ]


def env_name(dotted: str) -> str:
    """``churn.alert_threshold`` -> ``INSIGHT_ENGINE__CHURN__ALERT_THRESHOLD``."""
    return ENV_PREFIX + "__".join(part.upper() for part in dotted.split("."))


# -- reading ---------------------------------------------------------------------------------
def _read_file(path: Path, raw: dict[str, dict[str, tuple[Any, str]]], errors: list[str]) -> None:
    try:
        doc = tomllib.loads(path.read_text())
    except OSError as exc:
        errors.append(f"{path}: cannot read: {exc.strerror}")
        return
    except tomllib.TOMLDecodeError as exc:
        errors.append(f"{path}: not valid TOML: {exc}")
        return
    for name, value in doc.items():
        if isinstance(value, dict):
            section = _section(name, errors, str(path))
            if section is not None:
                for key, item in value.items():
                    _put(raw, section, key, item, f"{path} [{name}]", errors, _file_hint)
        else:
            _put(raw, "", name, value, str(path), errors, _file_hint)


def _read_env(
    env: Mapping[str, str], raw: dict[str, dict[str, tuple[Any, str]]], errors: list[str]
) -> None:
    for var in sorted(env):
        if not var.startswith(ENV_PREFIX):
            continue
        parts = var.removeprefix(ENV_PREFIX).lower().split("__")
        if len(parts) == 1:
            section, key = "", parts[0]
        elif len(parts) == 2:
            found = _section(parts[0], errors, var)
            if found is None:
                continue
            section, key = found, parts[1]
        else:
            errors.append(f"{var}: expected {ENV_PREFIX}KEY or {ENV_PREFIX}SECTION__KEY")
            continue
        _put(raw, section, key, _env_value(env[var]), var, errors, _env_hint)


def _env_value(text: str) -> Any:
    """A TOML value (``0.8``, ``true``, ``[3, 8]``, ``"x"``), else the bare text as a string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text.strip()


def _section(name: str, errors: list[str], source: str) -> str | None:
    known = sections()
    if name in known:
        return name
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.5)
    hint = f"did you mean [{close[0]}]?" if close else f"sections are {', '.join(known)}"
    errors.append(f"{source}: unknown section [{name}]; {hint}")
    return None


def _put(
    raw: dict[str, dict[str, tuple[Any, str]]],
    section: str,
    key: str,
    value: Any,
    source: str,
    errors: list[str],
    hint: Any,
) -> None:
    if section == "" and key in RUNTIME_OWNED:
        errors.append(f"{source}: {key} is a runtime setting: set {RUNTIME_OWNED[key]}")
        return
    valid = top_level_keys() if section == "" else [f.name for f in _fields(sections()[section])]
    if key not in valid:
        close = difflib.get_close_matches(key, valid, n=1, cutoff=0.6)
        suggestion = (
            f"did you mean {hint(_dotted(section, close[0]))}?"
            if close
            else (f"valid keys: {', '.join(valid)}")
        )
        errors.append(f"{source}: unknown key {_dotted(section, key)}; {suggestion}")
        return
    raw.setdefault(section, {})[key] = (value, source)


def _file_hint(dotted: str) -> str:
    return dotted


def _env_hint(dotted: str) -> str:
    return env_name(dotted)


# -- types -----------------------------------------------------------------------------------
def _coerce(value: Any, hint: Any) -> Any:
    """``value`` (from TOML) as the field's type; ValueError says what was expected."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        if value is None or (isinstance(value, str) and value.lower() == NONE):
            return None
        return _coerce(value, inner[0]) if len(inner) == 1 else value
    if origin is typing.Literal:
        if value not in args:
            raise ValueError(f"expected one of {', '.join(map(str, args))}")
        return value
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise ValueError(f"expected an array, e.g. {_example(hint)}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_coerce(v, args[0]) for v in value)
        if len(value) != len(args):
            raise ValueError(f"expected an array of {len(args)} values, e.g. {_example(hint)}")
        return tuple(_coerce(v, a) for v, a in zip(value, args, strict=True))
    if hint is bool:
        if not isinstance(value, bool):
            raise ValueError("expected true or false")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError("expected an integer")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError("expected a number")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise ValueError("expected a string")
        return value
    raise ValueError(f"cannot set a {hint} from a file")


def _example(hint: Any) -> str:
    args = typing.get_args(hint)
    if len(args) == 2 and args[1] is Ellipsis:
        return "[1, 2, 3]"
    return "[" + ", ".join("1" if a is int else "1.0" for a in args) + "]"


# -- building and range checks ---------------------------------------------------------------
def _build(
    values: dict[str, dict[str, Any]], raw: dict[str, dict[str, tuple[Any, str]]]
) -> EngineConfig:
    """Construct every section, naming the changed keys behind a failed range check."""
    errors: list[str] = []
    built: dict[str, Any] = {}
    for section, cls in sections().items():
        built[section] = _construct(cls, section, values.get(section, {}), raw, errors)
    cfg = None
    if not errors:
        cfg = _construct(EngineConfig, "", {**values.get("", {}), **built}, raw, errors)
    if errors or cfg is None:
        raise EngineConfigError("invalid engine settings:\n  " + "\n  ".join(errors))
    return cfg


def _construct(
    cls: type,
    section: str,
    changes: dict[str, Any],
    raw: dict[str, dict[str, tuple[Any, str]]],
    errors: list[str],
) -> Any:
    try:
        return cls(**changes)
    except ValueError as exc:
        given = {k: v for k, v in changes.items() if k in raw.get(section, {})}
        culprits = [k for k in given if _fails(cls, {k: given[k]})] or list(given)
        named = "; ".join(
            f"{raw[section][k][1]}: {_dotted(section, k)} = {raw[section][k][0]!r}"
            for k in culprits
        )
        errors.append(f"{named or _dotted(section, '*')}: {exc}")
        return None


def _fails(cls: type, changes: dict[str, Any]) -> bool:
    try:
        cls(**changes)
    except ValueError:
        return True
    return False


def _fields(cls: type) -> list[dataclasses.Field[Any]]:
    return [f for f in dataclasses.fields(cls) if f.init]


def _is_dataclass(hint: Any) -> bool:
    return isinstance(hint, type) and dataclasses.is_dataclass(hint)


def _dotted(section: str, key: str) -> str:
    return f"{section}.{key}" if section else key
