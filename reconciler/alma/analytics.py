"""Read an Alma Analytics report page: an XML rowset, inside JSON `anies` or as the body itself.

Design decision: rows become dicts keyed by the column *headings* from the rowset's schema
(`saw-sql:columnHeading`), falling back to `Column0…N`. Alma sends the schema and the
ResumptionToken on the first page only, so the walk carries both forward to later pages.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from reconciler.alma.normalise import as_list
from reconciler.alma.requesting import Requester
from reconciler.alma.xmlsafe import child, local_name, parse_xml, text_of
from reconciler.errors import AlmaCall, AlmaUnexpectedBodyError

REPORTS = "/analytics/reports"
MAX_EMPTY_POLLS = 8  # with the default back-off, about a minute for a report to start
_HEADING_ATTR = "columnHeading"


@dataclass(frozen=True)
class ReportPage:
    """One page of a report: rows, the token for the next page, and whether it was the last."""

    rows: tuple[dict[str, str], ...]
    token: str
    finished: bool
    headings: dict[str, str]


def report_xml(document: Any) -> str:
    """The QueryResult XML from a JSON answer (`{"anies": ["<QueryResult…>"]}`)."""
    if isinstance(document, dict):
        for entry in as_list(document.get("anies")):
            if isinstance(entry, str) and entry.strip():
                return entry
    raise ValueError("no QueryResult in the Analytics answer")


def parse_report(xml_text: str | bytes, headings: dict[str, str] | None = None) -> ReportPage:
    """Rows and paging state of one QueryResult; `headings` from an earlier page fill gaps."""
    root = parse_xml(xml_text)
    query_result = root if local_name(root) == "QueryResult" else _find(root, "QueryResult")
    if query_result is None:
        raise ValueError("no QueryResult element")
    rowset = _find(query_result, "rowset")
    known = dict(headings or {})
    if rowset is not None:
        known.update(_headings(rowset))
    rows = tuple(_row(row, known) for row in _rows(rowset))
    finished = text_of(child(query_result, "IsFinished")).lower() == "true"
    return ReportPage(
        rows=rows,
        token=text_of(child(query_result, "ResumptionToken")),
        finished=finished,
        headings=known,
    )


def _find(element: ET.Element, name: str) -> ET.Element | None:
    return next((node for node in element.iter() if local_name(node) == name), None)


def _headings(rowset: ET.Element) -> dict[str, str]:
    headings: dict[str, str] = {}
    for node in rowset.iter():
        if local_name(node) != "element":
            continue
        column = node.get("name", "")
        heading = next(
            (value for key, value in node.attrib.items() if key.endswith(_HEADING_ATTR)), ""
        )
        if column.startswith("Column") and heading:
            headings[column] = heading
    return headings


def _rows(rowset: ET.Element | None) -> list[ET.Element]:
    if rowset is None:
        return []
    return [node for node in rowset if local_name(node) == "Row"]


def _row(row: ET.Element, headings: dict[str, str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for cell in row:
        column = local_name(cell)
        values[headings.get(column, column)] = text_of(cell)
    return values


class AnalyticsEndpoints:
    """Alma Analytics reports (read only); mixed into `AlmaClient`."""

    _requester: Requester

    def get_report_page(
        self,
        path: str | None,
        *,
        limit: int = 1000,
        token: str | None = None,
        headings: dict[str, str] | None = None,
    ) -> ReportPage:
        """One page of GET /analytics/reports: by `path` first, then by the page's `token`."""
        if not 25 <= limit <= 1000 or limit % 25:
            raise ValueError("limit must be a multiple of 25 between 25 and 1000")
        reply = self._requester.call(
            "GET",
            REPORTS,
            params={"path": path, "limit": limit, "token": token, "col_names": True},
        )
        try:
            # Asked for JSON, Alma wraps the XML in `anies`; some gateways send the XML itself.
            text: str | bytes = (
                reply.body if reply.body.lstrip().startswith(b"<") else report_xml(reply.json())
            )
            return parse_report(text, headings)
        except ValueError as error:
            raise AlmaUnexpectedBodyError(
                reply.call, status=reply.status, alma_message=f"Analytics report: {error}"
            ) from error

    def iter_report_rows(
        self, path: str, *, limit: int = 1000, max_pages: int = 1000
    ) -> Iterator[dict[str, str]]:
        """Every row of the report at `path`, column heading → value, following the token.

        A page with no rows and IsFinished false means the report is still running: it is
        polled again with the token after a back-off (the retry policy's delays), a few
        times, rather than taken for an empty report, which would hide rules that use a group.
        """
        page = self.get_report_page(path, limit=limit)
        token = page.token
        empty_polls = 0
        for _ in range(max_pages):
            yield from page.rows
            if page.finished:
                return
            if not token:
                raise _report_error("is not finished but gave no ResumptionToken")
            empty_polls = 0 if page.rows else empty_polls + 1
            if empty_polls > MAX_EMPTY_POLLS:
                raise _report_error(f"still has no rows after {MAX_EMPTY_POLLS} polls")
            if empty_polls:
                retry = self._requester.retry
                retry.sleep(retry.delay(empty_polls))
            page = self.get_report_page(None, limit=limit, token=token, headings=page.headings)
            token = page.token or token  # the token comes on the first page only
        raise _report_error(f"is still unfinished after {max_pages} pages")


def _report_error(problem: str) -> AlmaUnexpectedBodyError:
    return AlmaUnexpectedBodyError(
        AlmaCall("GET", REPORTS), status=200, alma_message=f"Analytics report {problem}"
    )
