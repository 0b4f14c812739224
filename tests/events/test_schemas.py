import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from insight_stream.cli.outputs_doc import OUTPUTS, render_reference
from insight_stream.cli.schema import DIALECT, render, schemas

REPO = Path(__file__).resolve().parents[2]
SCHEMAS = REPO / "schemas"
OUTPUT_DOC = REPO / "docs" / "outputs.md"


def committed(name: str) -> dict[str, Any]:
    return json.loads((SCHEMAS / name).read_text())


def properties(schema: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(where, property) of the top level and of every ``$defs`` model."""
    models = [("", schema), *((f"{k}.", v) for k, v in schema.get("$defs", {}).items())]
    return [(f"{w}{n}", p) for w, m in models for n, p in m.get("properties", {}).items()]


def test_committed_schemas_match_the_code():
    for name, schema in schemas().items():
        committed = SCHEMAS / name
        assert committed.exists(), f"{name} missing: run `make schema`"
        assert committed.read_bytes() == render(schema), f"{name} drifted: run `make schema`"


def test_input_schema_accepts_both_timestamp_forms():
    ts = schemas()["input-event.v1.json"]["$defs"]["ClickEvent"]["properties"]["ts"]
    kinds = {s["type"] for s in ts["anyOf"]}
    assert kinds == {"string", "integer"}


@pytest.mark.parametrize("name", sorted(schemas()))
def test_schemas_name_their_dialect_and_id(name: str):
    schema = committed(name)
    assert schema["$schema"] == DIALECT
    assert schema["$id"] == f"urn:insight-stream:schema:{name}"
    Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("name", sorted(OUTPUTS))
def test_every_output_field_is_described(name: str):
    schema = committed(name)
    fields = properties(schema)
    assert len(fields) >= 8
    missing = [
        where
        for where, prop in fields
        if not (prop.get("description") or ("$ref" in prop and _target(schema, prop)))
    ]
    assert not missing, f"{name}: no description on {missing}"


def _target(schema: dict[str, Any], prop: dict[str, Any]) -> str:
    return schema["$defs"][prop["$ref"].rsplit("/", 1)[-1]].get("description", "")


BOUNDED = {
    ("profile.v1.json", "Churn.risk"): (0, 1),
    ("profile.v1.json", "Churn.p_alive"): (0, 1),
    ("profile.v1.json", "discount_sensitivity"): (0, 1),
    ("churn-alert.v1.json", "risk"): (0, 1),
    ("profile.v1.json", "orders"): (0, None),
    ("profile.v1.json", "returns"): (0, None),
    ("profile.v1.json", "cancellations"): (0, None),
    ("profile.v1.json", "sessions"): (0, None),
    ("profile.v1.json", "tenure_days"): (0, None),
    ("profile.v1.json", "Rfm.frequency"): (0, None),
}


@pytest.mark.parametrize(("name", "field"), sorted(BOUNDED))
def test_bounds_are_published(name: str, field: str):
    prop = dict(properties(committed(name)))[field]
    assert (prop.get("minimum"), prop.get("maximum")) == BOUNDED[name, field]


def test_a_validator_enforces_the_bounds():
    """The bounds are machine-checked: an out-of-range alert is refused."""
    alert = {
        "alert_id": "a1",
        "user_id": "u1",
        "ts": 1,
        "risk": 0.8,
        "value": 10.0,
        "reasons": [],
        "action": "call",
    }
    validator = Draft202012Validator(committed("churn-alert.v1.json"))
    validator.validate(alert)
    with pytest.raises(ValidationError):
        validator.validate({**alert, "risk": 1.5})
    with pytest.raises(ValidationError):
        validator.validate({**alert, "surprise": 1})


def test_output_reference_is_generated_from_the_schemas():
    assert OUTPUT_DOC.read_text() == render_reference(schemas()), (
        "docs/outputs.md drifted: run `make schema`"
    )
    text = OUTPUT_DOC.read_text()
    for path in ("`churn.risk`", "`recommendations[].item_id`", "`rfm.frequency`", "`error_type`"):
        assert path in text
