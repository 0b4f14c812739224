"""``insight-stream schema``: write the JSON Schemas of every input and output record."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import orjson

from insight_stream.cli.outputs_doc import render_reference
from insight_stream.events import EVENT_ADAPTER
from insight_stream.events.outputs import ChurnAlert, DlqRecord, Profile

DIALECT = "https://json-schema.org/draft/2020-12/schema"
ID_PREFIX = "urn:insight-stream:schema:"
"""``$id`` = prefix + file name: a stable name, not a URL that would have to be served."""


def schemas() -> dict[str, dict[str, Any]]:
    """File name -> JSON Schema, for inputs (validation mode) and outputs (serialisation)."""
    raw = {
        "input-event.v1.json": EVENT_ADAPTER.json_schema(mode="validation"),
        "profile.v1.json": Profile.model_json_schema(mode="serialization"),
        "churn-alert.v1.json": ChurnAlert.model_json_schema(mode="serialization"),
        "dlq-record.v1.json": DlqRecord.model_json_schema(mode="serialization"),
    }
    return {
        name: {"$schema": DIALECT, "$id": ID_PREFIX + name, **schema}
        for name, schema in raw.items()
    }


def render(schema: dict[str, Any]) -> bytes:
    return orjson.dumps(schema, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"


def run(args: argparse.Namespace) -> int:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name, schema in schemas().items():
        (out / name).write_bytes(render(schema))
        print(out / name)
    if args.doc:
        doc = Path(args.doc)
        doc.write_text(render_reference(schemas()))
        print(doc)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "schema",
        help="write the JSON Schemas of input events and output records",
        description="Write JSON Schemas (draft 2020-12) of the v1 input events and of the "
        "profile, churn-alert and DLQ records, so downstream teams can validate. The "
        "committed copies live in schemas/ and a test fails when they drift from the code.",
    )
    p.add_argument("--out", default="schemas", help="output directory (default: %(default)s)")
    p.add_argument(
        "--doc",
        metavar="PATH",
        help="also write the Markdown field reference of the outputs (docs/outputs.md)",
    )
    p.set_defaults(func=run)
