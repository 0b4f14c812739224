"""The human-readable field reference of the output records (docs/outputs.md).

Generated from the published JSON Schemas, not written by hand, so the reference can never
say something the contract does not (``insight-stream schema --doc``; a test fails when the
committed copy drifts).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

OUTPUTS = {
    "profile.v1.json": "`insight.profiles` (compacted, key `user_id`)",
    "churn-alert.v1.json": "`insight.churn-alerts` (key `user_id`)",
    "dlq-record.v1.json": "the file form of `insight.dlq` (`replay`'s `dlq.jsonl`)",
}
"""Output schema file -> where consumers meet it."""

Row = tuple[str, str, bool, str, str]  # path, type, required, bounds, description

_BOUNDS = (
    ("minimum", "≥ {}"),
    ("exclusiveMinimum", "> {}"),
    ("maximum", "≤ {}"),
    ("exclusiveMaximum", "< {}"),
    ("minLength", "length ≥ {}"),
    ("maxLength", "length ≤ {}"),
)


def _deref(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if ref is None:
        return node
    return schema["$defs"][ref.rsplit("/", 1)[-1]]


def _variants(schema: dict[str, Any], node: dict[str, Any]) -> list[dict[str, Any]]:
    """The non-null alternatives of a property, resolved."""
    options = node.get("anyOf", [node])
    return [_deref(schema, o) for o in options if o.get("type") != "null"]


def _type(schema: dict[str, Any], node: dict[str, Any]) -> str:
    if "$ref" in node:
        return node["$ref"].rsplit("/", 1)[-1]
    if "enum" in node:
        return " \\| ".join(f"`{v}`" for v in node["enum"])
    if "const" in node:
        return f"`{node['const']}`"
    kind = node.get("type", "any")
    if kind == "array":
        items = node.get("items", {})
        if "prefixItems" in items:
            inner = ", ".join(_type(schema, p) for p in items["prefixItems"])
            return f"array of [{inner}]"
        return f"array of {_type(schema, items)}"
    if kind == "object" and isinstance(node.get("additionalProperties"), dict):
        return f"object of {_type(schema, node['additionalProperties'])}"
    return str(kind)


def _bounds(node: dict[str, Any]) -> str:
    return ", ".join(fmt.format(node[key]) for key, fmt in _BOUNDS if key in node)


def rows(
    schema: dict[str, Any], node: dict[str, Any] | None = None, prefix: str = ""
) -> Iterator[Row]:
    """Every field, nested objects and list items flattened (``rfm.frequency``, ``a[].b``)."""
    node = schema if node is None else node
    required = set(node.get("required", []))
    for name, prop in node.get("properties", {}).items():
        variants = _variants(schema, prop)
        kind = " \\| ".join(_type(schema, o) for o in prop.get("anyOf", [prop]))
        text = prop.get("description") or next(
            (v["description"] for v in variants if "description" in v), ""
        )
        if "default" in prop:
            text += f" Default `{json.dumps(prop['default'])}`."
        path = prefix + name
        bounds = ", ".join(b for b in (_bounds(v) for v in variants) if b)
        yield path, kind, name in required, bounds, text
        for v in variants:
            if v.get("type") == "array" and "$ref" in v.get("items", {}):
                yield from rows(schema, _deref(schema, v["items"]), f"{path}[].")
            elif "properties" in v:
                yield from rows(schema, v, f"{path}.")


def render_reference(schemas: dict[str, dict[str, Any]]) -> str:
    """Markdown of every output schema in :data:`OUTPUTS`, field by field."""
    out = [
        "# Output records: field reference",
        "",
        "Generated from `schemas/*.json` by `insight-stream schema --doc docs/outputs.md`",
        "(`make schema`); do not edit by hand. The JSON Schemas (draft 2020-12) are the",
        "contract: validate with any JSON Schema validator. Unknown fields are never sent",
        "(`additionalProperties: false`); a new field means a new schema version.",
        "",
    ]
    for name, where in OUTPUTS.items():
        schema = schemas[name]
        out += [
            f"## {schema['title']} (`schemas/{name}`)",
            "",
            f"{schema.get('description', '').strip()}",
            "",
            f"On {where}. `$id`: `{schema['$id']}`.",
            "",
            "| field | type | required | bounds | description |",
            "|---|---|---|---|---|",
        ]
        for path, kind, required, bounds, text in rows(schema):
            cell = text.replace("|", "\\|").replace("\n", " ")
            out.append(f"| `{path}` | {kind} | {'yes' if required else 'no'} | {bounds} | {cell} |")
        out.append("")
    return "\n".join(out)
