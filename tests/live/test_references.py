"""References: mapping tables keyed by user group that name a retired group."""

from __future__ import annotations

from typing import Any

from reconciler.reading.references import read_mapping_references


class FakeConfiguration:
    """Just the two conf endpoints read_mapping_references uses, with canned tables."""

    def __init__(self, tables: dict[str, list[dict[str, Any]]]) -> None:
        self.tables = tables
        self.read: list[str] = []

    def list_mapping_tables(self) -> list[dict[str, str]]:
        return [{"name": name} for name in self.tables]

    def get_mapping_table(self, name: str) -> dict[str, Any]:
        self.read.append(name)
        return {"name": name, "row": self.tables[name]}


def test_group_keyed_tables_are_searched_for_exact_codes() -> None:
    """Rows of user-group and limit tables naming a code are references; others are not read."""
    fake = FakeConfiguration(
        {
            "UserRecordTypeUserGroup": [{"column0": "PUBLIC", "column1": "15"}],
            "PatronLimitsUserGroup": [
                {"column0": "15", "column1": "10"},
                {"column0": "150", "column1": "5"},
            ],
            "LocationTypes": [{"column0": "15", "column1": "Stacks"}],
        }
    )
    found = read_mapping_references(fake, ["15", "99"])  # type: ignore[arg-type]
    assert [(r.source, r.name, r.group_code) for r in found] == [
        ("mapping table PatronLimitsUserGroup", "row 1", "15")
    ]
    assert fake.read == ["PatronLimitsUserGroup"]
