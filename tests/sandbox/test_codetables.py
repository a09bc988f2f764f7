"""UserGroups code table and UserRecordTypeUserGroup mapping table, with Alma's PUT rules."""

from __future__ import annotations

from typing import Any

from .conftest import Client, error_code


def _rows(ucf: Client) -> list[dict[str, Any]]:
    response = ucf.get("/conf/code-tables/UserGroups")
    assert response.status_code == 200
    rows: list[dict[str, Any]] = response.json()["row"]
    return rows


def _put(ucf: Client, rows: list[dict[str, Any]]) -> Any:
    return ucf.put("/conf/code-tables/UserGroups", {"name": "UserGroups", "row": rows})


def test_get_user_groups_has_alma_shape(ucf: Client) -> None:
    """GET returns rows directly under `row` with boolean default/enabled and one default."""
    body = ucf.get("/conf/code-tables/UserGroups").json()
    assert body["name"] == "UserGroups"
    assert body["scope"]["institution_id"]["value"] == "01FALSC_UCF"
    rows = body["row"]
    assert {"code", "description", "default", "enabled"} <= set(rows[0])
    assert sum(1 for r in rows if r["default"]) == 1
    assert {"01", "15", "69", "99"} <= {r["code"] for r in rows}  # retired groups are still live


def test_put_replaces_whole_table_and_adds_rows(ucf: Client) -> None:
    """PUT replaces the table: a new row appears, a changed description sticks."""
    rows = _rows(ucf)
    rows[1]["description"] = "Graduate"
    rows.append({"code": "NEW1", "description": "New group", "default": False, "enabled": True})
    response = _put(ucf, rows)
    assert response.status_code == 200
    after = {r["code"]: r for r in _rows(ucf)}
    assert after["NEW1"]["enabled"] is True
    assert after[rows[1]["code"]]["description"] == "Graduate"


def test_two_defaults_are_refused_with_90122(ucf: Client) -> None:
    """Only one row may be the default: a second one gives 400 90122 and changes nothing."""
    rows = _rows(ucf)
    for row in rows[:2]:
        row["default"] = True
    response = _put(ucf, rows)
    assert response.status_code == 400
    assert error_code(response) == "90122"
    assert sum(1 for r in _rows(ucf) if r["default"]) == 1


def test_table_without_default_is_refused(ucf: Client) -> None:
    """Dropping the default flag from every row is refused (the table keeps one default)."""
    rows = [{**r, "default": False} for r in _rows(ucf)]
    response = _put(ucf, rows)
    assert response.status_code == 400
    assert response.json()["errorsExist"] is True


def test_deleted_row_cannot_be_restored(ucf: Client) -> None:
    """A row removed by PUT is gone; re-adding the same code later is an Alma-like 400."""
    rows = _rows(ucf)
    kept = [r for r in rows if r["code"] != "99"]
    assert _put(ucf, kept).status_code == 200
    assert "99" not in {r["code"] for r in _rows(ucf)}
    response = _put(ucf, rows)
    assert response.status_code == 400
    assert "restor" in response.json()["errorList"]["error"][0]["errorMessage"]


def test_disable_then_enable_is_allowed(ucf: Client) -> None:
    """Disabling a row keeps it restorable: enabled can be flipped back."""
    rows = _rows(ucf)
    target = next(r for r in rows if r["code"] == "15")
    target["enabled"] = False
    assert _put(ucf, rows).status_code == 200
    target["enabled"] = True
    assert _put(ucf, rows).status_code == 200
    assert next(r for r in _rows(ucf) if r["code"] == "15")["enabled"] is True


def test_codes_must_be_alphanumeric(ucf: Client) -> None:
    """A code with a dash or space is refused with a JSON error body and a trackingId."""
    rows = [*_rows(ucf), {"code": "BAD-1", "description": "Bad"}]
    response = _put(ucf, rows)
    assert response.status_code == 400
    assert response.json()["errorList"]["error"][0]["trackingId"].startswith("E01-")


def test_unknown_code_table_is_400_90101(ucf: Client) -> None:
    """An unknown table is 400 (not 404), as Alma answers."""
    response = ucf.get("/conf/code-tables/NoSuchTable")
    assert response.status_code == 400
    assert error_code(response) == "90101"


def test_mapping_tables_list_and_get(ucf: Client) -> None:
    """The mapping table lists record type → group rows for every live group."""
    names = [t["name"] for t in ucf.get("/conf/mapping-tables").json()["mapping_table"]]
    assert "UserRecordTypeUserGroup" in names
    rows = ucf.get("/conf/mapping-tables/UserRecordTypeUserGroup").json()["row"]
    assert {"column0": "PUBLIC", "column1": "01", "enabled": True} in rows


def test_mapping_put_replaces_rows_and_checks_groups(ucf: Client) -> None:
    """PUT replaces the rows; a row naming a group that is not in UserGroups is refused."""
    path = "/conf/mapping-tables/UserRecordTypeUserGroup"
    rows = ucf.get(path).json()["row"]
    bad = ucf.put(path, {"row": [*rows, {"column0": "PUBLIC", "column1": "NOPE"}]})
    assert bad.status_code == 400
    fewer = [r for r in rows if r["column1"] != "15"]
    assert ucf.put(path, {"row": fewer}).status_code == 200
    assert all(r["column1"] != "15" for r in ucf.get(path).json()["row"])


def test_single_row_object_is_accepted(ucf: Client) -> None:
    """Alma sends a one-member list as a bare object; a PUT written that way works too."""
    mapping = "/conf/mapping-tables/UserRecordTypeUserGroup"
    response = ucf.put(mapping, {"row": {"column0": "PUBLIC", "column1": "01"}})
    assert response.status_code == 200
    assert response.json()["row"] == [{"column0": "PUBLIC", "column1": "01", "enabled": True}]
