"""Writing an engine config as TOML that :func:`load_engine_config` reads back.

Each key carries the first line of its field's docstring as a comment, and keys in
:data:`STATE_KEYS` say that changing them needs a new state directory, so the printed
defaults are the reference an operator edits.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import math
import textwrap
from typing import Any

from insight_stream.processor.config import EngineConfig
from insight_stream.processor.engine_file import (
    ENGINE_CONFIG_ENV,
    NONE,
    RUNTIME_OWNED,
    STATE_KEYS,
    env_name,
    sections,
    top_level_keys,
)


def to_toml(cfg: EngineConfig | None = None) -> str:
    """The whole engine config (default: the defaults) as commented TOML.

    >>> import tomllib
    >>> tomllib.loads(to_toml())["churn"]["alert_threshold"]
    0.95
    """
    cfg = cfg or EngineConfig()
    lines = [
        "# insight-stream engine settings (insight-stream config --print-defaults).",
        f"# Use with --engine-config PATH or {ENGINE_CONFIG_ENV}=PATH; a variable such as",
        f"# {env_name('churn.alert_threshold')}=0.8 overrides one key.",
        "# Runtime settings instead of keys here:",
        *(f"#   {k}: {v}" for k, v in RUNTIME_OWNED.items()),
        "# Keys marked [state] change what saved state means: a restart with another value",
        "# is refused; use a new state directory and group, or keep the old value.",
        "",
    ]
    lines += _keys(EngineConfig, "", cfg, top_level_keys())
    for section in sections():
        obj = getattr(cfg, section)
        names = [f.name for f in dataclasses.fields(obj) if f.init]
        lines += ["", f"[{section}]", *_keys(type(obj), section, obj, names)]
    return "\n".join(lines) + "\n"


def _keys(cls: type, section: str, obj: Any, names: list[str]) -> list[str]:
    docs = field_docs(cls)
    out = []
    for name in names:
        dotted = f"{section}.{name}" if section else name
        note = docs.get(name, "")
        if dotted in STATE_KEYS:
            note = f"[state] {note}"
        out += [f"# {line}" for line in textwrap.wrap(note, 88)]
        out.append(f"{name} = {_value(getattr(obj, name))}")
    return out


def _value(value: Any) -> str:
    if value is None:
        return json.dumps(NONE)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return json.dumps(str(value))


def field_docs(cls: type) -> dict[str, str]:
    """Each field's entry in the numpydoc ``Parameters`` section, as one line."""
    doc = inspect.cleandoc(cls.__doc__ or "")
    if "Parameters\n----------" not in doc:
        return {}
    body = doc.split("Parameters\n----------", 1)[1]
    out: dict[str, str] = {}
    names: list[str] = []
    for line in body.splitlines():
        if not line.strip():
            continue
        if not line.startswith(" "):
            if line.startswith((">>>", "Examples")):
                break
            names = [n.strip() for n in line.split(",")]
            continue
        if not names:
            continue
        for name in names:
            out[name] = f"{out.get(name, '')} {line.strip()}".strip()
    return out
