"""Configuration that names a user group: rules in an Analytics report, other mapping tables.

Fulfillment and terms-of-use rules have no REST API; FLVC can read them from an Analytics
report ("Configurations (Limited)") named by `rules_report` in institution.yaml. Each
institution's key reads only its own institution's reports, so the path is per institution (in
its own Analytics folder). Access is checked once per run: the report's first page is the check,
and a refusal stops that institution's read with the way out (a plan that cannot see the rules
must not retire a group they name). Mapping tables
keyed by user group (patron and loan limits) are read through the conf API. Either way a
retired group still named there would break or silently stop applying a rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from reconciler.alma import AlmaClient
from reconciler.errors import AlmaApiError, AlmaDailyLimitError, AnalyticsAccessError
from reconciler.model import InstitutionState
from reconciler.model.live import RuleReference

RULES_SOURCE = "fulfillment rules (Analytics)"
RECORD_TYPE_TABLE = "UserRecordTypeUserGroup"  # managed by the plan itself, not a reference


def read_references(
    client: AlmaClient, state: InstitutionState, codes: Iterable[str]
) -> Iterator[RuleReference]:
    """Rows of the configured Analytics rules report that name one of `codes`."""
    report = state.institution.rules_report
    if not report:
        return
    known = set(codes)
    try:
        rows = list(client.iter_report_rows(report))
    except AlmaDailyLimitError:
        raise
    except AlmaApiError as error:
        institution = state.institution
        where = f" ({institution.location})" if institution.location.line else ""
        raise AnalyticsAccessError(
            f"{institution.slug}: cannot read the Analytics report {report!r} named by "
            f"rules_report{where}: {error}. The API key needs the Analytics area (read), and "
            "each institution's key reads only its own reports: point rules_report at a report "
            "in the institution's own Analytics folder"
        ) from error
    for row in rows:
        for code in _codes_in(row, known):
            name = row.get("Rule Name") or next(iter(row.values()), "")
            unit = row.get("Fulfillment Unit Name")
            yield RuleReference(RULES_SOURCE, f"{unit}: {name}" if unit else name, code)


def _codes_in(row: Mapping[str, str], known: set[str]) -> set[str]:
    """Group codes named by a rule row: its parameter value lists codes, comma-separated."""
    found = set()
    for column, value in row.items():
        if "Parameter Value" in column or "User Group" in column:
            found |= {part.strip() for part in value.split(",")} & known
    return found


def read_mapping_references(client: AlmaClient, codes: Iterable[str]) -> list[RuleReference]:
    """Rows of mapping tables keyed by user group (not the record-type table) naming a code.

    Only tables whose name says they are about user groups or limits are read: a generic
    column equal to "01" in an unrelated table is a location or a level, not a group.
    """
    known = set(codes)
    found: list[RuleReference] = []
    for table in client.list_mapping_tables():
        name = str(table.get("name", ""))
        lowered = name.lower()
        if name == RECORD_TYPE_TABLE or not ("usergroup" in lowered or "limit" in lowered):
            continue
        for index, row in enumerate(client.get_mapping_table(name).get("row", [])):
            values = {str(value).strip() for key, value in row.items() if key.startswith("column")}
            for code in sorted(values & known):
                found.append(RuleReference(f"mapping table {name}", f"row {index + 1}", code))
    return found
