"""The published JSON Schemas: valid 2020-12, closed objects, a description on every property."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

SCHEMAS = sorted((Path(__file__).resolve().parents[1] / "schemas").glob("*.schema.json"))


def properties(node: Any, where: str = "") -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    """Every (path, property schema, parent object schema) in a schema document."""
    if isinstance(node, dict):
        for name, child in (node.get("properties") or {}).items():
            yield f"{where}.{name}", child, node
        for key, child in node.items():
            yield from properties(child, f"{where}/{key}")
    elif isinstance(node, list):
        for index, child in enumerate(node):
            yield from properties(child, f"{where}[{index}]")


def resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref", "")
    if ref.startswith("#/$defs/"):
        return {**schema["$defs"][ref.removeprefix("#/$defs/")], **node}
    return node


@pytest.mark.parametrize("path", SCHEMAS, ids=lambda p: p.name)
def test_schema_is_valid_2020_12(path: Path) -> None:
    """Each schema is itself a valid JSON Schema 2020-12 document."""
    schema = json.loads(path.read_text())
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("path", SCHEMAS, ids=lambda p: p.name)
def test_every_property_is_described_and_objects_are_closed(path: Path) -> None:
    """Editors show a description for every key, and unknown keys are refused."""
    schema = json.loads(path.read_text())
    found = list(properties(schema))
    assert found
    for where, child, parent in found:
        assert resolve(schema, child).get("description"), f"{path.name}{where} has no description"
        assert "additionalProperties" in parent, f"{path.name}{where}: parent is not closed"
