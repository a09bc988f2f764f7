"""The UserRecordTypeUserGroup mapping table: which record types may use each group.

Alma's mapping tables carry generic columns (`column0…columnN`), and which of them holds the
record type and which the group is not documented for this table (reference/alma-api.md,
unverified). Design decision: find the columns instead of assuming column0 and column1:
1. from a header, when the table carries one (the shape is unverified, so two plausible ones
   are read: a `header`/`columns` mapping of column name to heading, or a list of
   `{name, description|heading|label}` entries);
2. else from the values: the record-type column is the one whose values are all record types
   (STAFF, PUBLIC, CONTACT), the group column the one other column that holds values;
3. where both readings leave a tie, column0 and column1, Alma's order as seen so far.
A table whose columns contradict all three is refused with a clear error rather than read
wrongly: the plan would add or remove the wrong rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.alma import AlmaClient
from reconciler.alma.normalise import as_bool, as_list
from reconciler.errors import AlmaCall, AlmaUnexpectedBodyError
from reconciler.model.live import RecordTypeMapping
from reconciler.reading.references import RECORD_TYPE_TABLE

RECORD_TYPES = frozenset({"STAFF", "PUBLIC", "CONTACT"})
DEFAULT_COLUMNS = ("column0", "column1")


def read_record_type_mappings(client: AlmaClient) -> tuple[RecordTypeMapping, ...]:
    """Rows of UserRecordTypeUserGroup, read by the columns `locate_columns` finds."""
    table = client.get_mapping_table(RECORD_TYPE_TABLE)
    rows = [row for row in table.get("row", []) if isinstance(row, Mapping)]
    record_type, group = locate_columns(table, rows)
    return tuple(
        RecordTypeMapping(
            record_type=str(row.get(record_type, "")).strip(),
            user_group=str(row.get(group, "")).strip(),
            enabled=as_bool(row.get("enabled"), default=True),
        )
        for row in rows
    )


def locate_columns(table: Mapping[str, Any], rows: Sequence[Mapping[str, Any]]) -> tuple[str, str]:
    """(record-type column, group column) of the table: header first, then values."""
    headings = _headings(table)
    by_heading = _by_heading(headings)
    if by_heading is not None:
        return by_heading
    values: dict[str, set[str]] = {}
    for row in rows:
        for key, value in row.items():
            text = str(value or "").strip()
            if key.startswith("column") and text:
                values.setdefault(key, set()).add(text)
    if not values:
        return DEFAULT_COLUMNS  # an empty table: nothing to read either way
    typed = sorted(c for c, seen in values.items() if seen <= RECORD_TYPES)
    record_type = typed[0] if len(typed) == 1 else None
    if record_type is None and DEFAULT_COLUMNS[0] in typed:
        record_type = DEFAULT_COLUMNS[0]  # several look like record types: Alma's order
    others = sorted(c for c in values if c != record_type)
    group = others[0] if len(others) == 1 else None
    if group is None and DEFAULT_COLUMNS[1] in others:
        group = DEFAULT_COLUMNS[1]
    if record_type is None or group is None:
        raise AlmaUnexpectedBodyError(
            AlmaCall("GET", f"/conf/mapping-tables/{RECORD_TYPE_TABLE}"),
            status=200,
            alma_message=(
                f"cannot tell which column holds the record type and which the user group "
                f"(columns with values: {', '.join(sorted(values))}; none or several hold "
                f"only {', '.join(sorted(RECORD_TYPES))})"
            ),
        )
    return record_type, group


def _headings(table: Mapping[str, Any]) -> dict[str, str]:
    """column name → heading text, from whatever header the table carries (maybe none)."""
    found: dict[str, str] = {}
    for key in ("header", "columns", "column"):
        header = table.get(key)
        if isinstance(header, Mapping):
            inner = header.get("column")
            if inner is not None and not isinstance(inner, str):
                header = inner
            else:
                found |= {str(k): str(v) for k, v in header.items() if isinstance(v, str)}
                continue
        for entry in as_list(header):
            if isinstance(entry, Mapping) and entry.get("name"):
                text = next(
                    (entry[k] for k in ("description", "heading", "label") if entry.get(k)), ""
                )
                found[str(entry["name"])] = str(text)
    return found


def _by_heading(headings: Mapping[str, str]) -> tuple[str, str] | None:
    lowered = {column: text.lower() for column, text in headings.items()}
    record = [c for c, text in lowered.items() if "record type" in text]
    group = [c for c, text in lowered.items() if "group" in text and "record type" not in text]
    if len(record) == 1 and len(group) == 1:
        return record[0], group[0]
    return None
