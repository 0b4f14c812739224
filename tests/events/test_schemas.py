from pathlib import Path

from insight_stream.cli.schema import render, schemas

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


def test_committed_schemas_match_the_code():
    for name, schema in schemas().items():
        committed = SCHEMAS / name
        assert committed.exists(), f"{name} missing: run `make schema`"
        assert committed.read_bytes() == render(schema), f"{name} drifted: run `make schema`"


def test_input_schema_accepts_both_timestamp_forms():
    ts = schemas()["input-event.v1.json"]["$defs"]["ClickEvent"]["properties"]["ts"]
    kinds = {s["type"] for s in ts["anyOf"]}
    assert kinds == {"string", "integer"}
