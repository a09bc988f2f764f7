"""Configuration endpoints: code tables, mapping tables and integration profiles.

Design decision: tables are returned exactly as read except that `row` is always a list (Alma
may send one row as an object), because the PUT replaces the whole table: callers change the
rows they mean to change and send everything else back untouched.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, cast

from reconciler.alma.normalise import as_list
from reconciler.alma.paging import iter_records
from reconciler.alma.payloads import CodeTable, IntegrationProfile, MappingTable, TableSummary
from reconciler.alma.requesting import Requester
from reconciler.errors import AlmaCall, AlmaUnexpectedBodyError

CODE_TABLES = "/conf/code-tables"
CODE_TABLE = "/conf/code-tables/{table}"
MAPPING_TABLES = "/conf/mapping-tables"
MAPPING_TABLE = "/conf/mapping-tables/{table}"
INTEGRATION_PROFILES = "/conf/integration-profiles"


class ConfigurationEndpoints:
    """The Configuration area of the API; mixed into `AlmaClient`."""

    _requester: Requester

    def list_code_tables(self) -> list[TableSummary]:
        """GET /conf/code-tables: name and description of every code table."""
        reply = self._requester.call("GET", CODE_TABLES)
        return [cast(TableSummary, t) for t in as_list(reply.json_object().get("code_table"))]

    def get_code_table(
        self, name: str, *, lang: str | None = None, scope: str | None = None
    ) -> CodeTable:
        """GET /conf/code-tables/{name}, e.g. "UserGroups" (the table code, not its label)."""
        reply = self._requester.call(
            "GET", CODE_TABLE, path_values={"table": name}, params={"lang": lang, "scope": scope}
        )
        return cast(CodeTable, _with_row_list(reply.json_object(), reply.call))

    def put_code_table(self, name: str, table: CodeTable, *, lang: str = "en") -> CodeTable:
        """PUT the whole table (rows left out are dropped by Alma); returns what Alma stored."""
        reply = self._requester.call(
            "PUT",
            CODE_TABLE,
            path_values={"table": name},
            params={"lang": lang},
            json_body=table,
        )
        return cast(CodeTable, _with_row_list(reply.json_object(), reply.call))

    def list_mapping_tables(self) -> list[TableSummary]:
        """GET /conf/mapping-tables: name and description of every mapping table."""
        reply = self._requester.call("GET", MAPPING_TABLES)
        return [cast(TableSummary, t) for t in as_list(reply.json_object().get("mapping_table"))]

    def get_mapping_table(self, name: str, *, scope: str | None = None) -> MappingTable:
        """GET /conf/mapping-tables/{name}, e.g. "UserRecordTypeUserGroup"."""
        reply = self._requester.call(
            "GET", MAPPING_TABLE, path_values={"table": name}, params={"scope": scope}
        )
        return cast(MappingTable, _with_row_list(reply.json_object(), reply.call))

    def put_mapping_table(self, name: str, table: MappingTable) -> MappingTable:
        """PUT the whole mapping table; returns what Alma stored."""
        reply = self._requester.call(
            "PUT", MAPPING_TABLE, path_values={"table": name}, json_body=table
        )
        return cast(MappingTable, _with_row_list(reply.json_object(), reply.call))

    def iter_integration_profiles(
        self, profile_type: str = "USER", *, q: str | None = None
    ) -> Iterator[IntegrationProfile]:
        """Every integration profile of `profile_type`, 100 per call.

        Alma's default limit of 10 silently cuts the list, so the type and the page size are
        always sent.
        """

        def fetch(limit: int, offset: int) -> Mapping[str, Any]:
            return self._requester.call(
                "GET",
                INTEGRATION_PROFILES,
                params={"type": profile_type, "q": q, "limit": limit, "offset": offset},
            ).json_object()

        for record in iter_records(fetch, "integration_profile"):
            yield cast(IntegrationProfile, record)


def _with_row_list(table: dict[str, Any], call: AlmaCall) -> dict[str, Any]:
    if "row" not in table and "name" not in table:
        raise AlmaUnexpectedBodyError(call, status=200, alma_message="expected a table")
    table["row"] = as_list(table.get("row"))
    return table
