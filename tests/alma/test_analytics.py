"""Analytics reports: rows keyed by column heading, paged with the first page's token."""

from __future__ import annotations

import pytest

from reconciler.alma.analytics import parse_report
from reconciler.errors import AlmaUnexpectedBodyError

from .fakes import Canned, ClientFactory, FakeAlma, SleepRecorder

RESUME_AT = "QkZBNDg3MDQ"  # an opaque resumption value, as Alma sends
SCHEMA = (
    '<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
    'targetNamespace="urn:schemas-microsoft-com:xml-analysis:rowset" '
    'xmlns:saw-sql="urn:saw-sql"><xsd:complexType name="Row"><xsd:sequence>'
    '<xsd:element minOccurs="0" maxOccurs="1" name="Column0" type="xsd:string" '
    'saw-sql:type="integer" saw-sql:columnHeading="0"/>'
    '<xsd:element minOccurs="0" maxOccurs="1" name="Column1" type="xsd:string" '
    'saw-sql:columnHeading="Rule Name"/>'
    '<xsd:element minOccurs="0" maxOccurs="1" name="Column2" type="xsd:string" '
    'saw-sql:columnHeading="Parameter Value"/>'
    "</xsd:sequence></xsd:complexType></xsd:schema>"
)


def query_result(rows: list[tuple[str, str]], *, resume: str, finished: bool, schema: bool) -> str:
    """A QueryResult like Alma's, with or without the column schema."""
    body = "".join(
        f"<Row><Column0>0</Column0><Column1>{name}</Column1><Column2>{value}</Column2></Row>"
        for name, value in rows
    )
    token_xml = f"<ResumptionToken>{resume}</ResumptionToken>" if resume else ""
    return (
        '<QueryResult xmlns="urn:schemas-microsoft-com:xml-analysis:rowset">'
        f"{token_xml}<IsFinished>{'true' if finished else 'false'}</IsFinished>"
        '<ResultXml><rowset xmlns="urn:schemas-microsoft-com:xml-analysis:rowset">'
        f"{SCHEMA if schema else ''}{body}</rowset></ResultXml></QueryResult>"
    )


def test_parse_report_uses_column_headings() -> None:
    """Cells are keyed by `saw-sql:columnHeading`, with paging state read."""
    page = parse_report(
        query_result([("Loan rule", "15")], resume=RESUME_AT, finished=False, schema=True)
    )
    assert page.rows == ({"0": "0", "Rule Name": "Loan rule", "Parameter Value": "15"},)
    assert page.token == RESUME_AT
    assert page.finished is False


def test_parse_report_without_schema_falls_back_to_column_names() -> None:
    """A later page without the schema uses the headings carried over, else ColumnN."""
    xml = query_result([("R", "01")], resume="", finished=True, schema=False)
    assert parse_report(xml).rows == ({"Column0": "0", "Column1": "R", "Column2": "01"},)
    carried = parse_report(xml, {"Column1": "Rule Name"})
    assert carried.rows[0]["Rule Name"] == "R"


def test_report_rows_follow_the_token_across_pages(
    fake_alma: FakeAlma, make_client: ClientFactory
) -> None:
    """Page one (JSON `anies`) gives the token; page two (raw XML) ends with IsFinished."""
    first = {"anies": [query_result([("A", "01")], resume=RESUME_AT, finished=False, schema=True)]}
    second = query_result([("B", "15")], resume="", finished=True, schema=False)
    fake_alma.script(
        "GET",
        "/analytics/reports",
        Canned(body=first),
        Canned(body=second, content_type="application/xml"),
    )
    rows = list(make_client().iter_report_rows("/shared/Florida/Rules", limit=25))
    assert [row["Rule Name"] for row in rows] == ["A", "B"]
    first_call, second_call = fake_alma.seen("GET", "/analytics/reports")
    assert first_call.query["path"] == ["/shared/Florida/Rules"]
    assert first_call.query["limit"] == ["25"]
    assert "token" not in first_call.query
    assert second_call.query["token"] == [RESUME_AT]
    assert "path" not in second_call.query


def test_unfinished_report_without_token_is_unexpected(
    fake_alma: FakeAlma, make_client: ClientFactory
) -> None:
    """IsFinished false but no ResumptionToken cannot be continued: say so."""
    page = {"anies": [query_result([("A", "1")], resume="", finished=False, schema=True)]}
    fake_alma.script("GET", "/analytics/reports", page)
    with pytest.raises(AlmaUnexpectedBodyError, match="ResumptionToken"):
        list(make_client().iter_report_rows("/x"))


def test_running_report_is_polled_until_rows_arrive(
    fake_alma: FakeAlma, make_client: ClientFactory, sleeps: SleepRecorder
) -> None:
    """An empty unfinished first page means "still running": poll with the token, back off."""
    running = {"anies": [query_result([], resume=RESUME_AT, finished=False, schema=True)]}
    done = {"anies": [query_result([("A", "01")], resume="", finished=True, schema=False)]}
    fake_alma.script("GET", "/analytics/reports", Canned(body=running), Canned(body=done))
    rows = list(make_client().iter_report_rows("/x"))
    assert [row["Rule Name"] for row in rows] == ["A"]
    assert sleeps.calls == [0.5]


def test_report_that_never_starts_gives_up(
    fake_alma: FakeAlma, make_client: ClientFactory, sleeps: SleepRecorder
) -> None:
    """A report that stays empty and unfinished fails after a bounded number of polls."""
    running = {"anies": [query_result([], resume=RESUME_AT, finished=False, schema=True)]}
    fake_alma.script("GET", "/analytics/reports", running)
    with pytest.raises(AlmaUnexpectedBodyError, match="no rows after 8 polls"):
        list(make_client().iter_report_rows("/x"))
    assert len(sleeps.calls) == 8


def test_report_answer_without_query_result_is_unexpected(
    fake_alma: FakeAlma, make_client: ClientFactory
) -> None:
    """A JSON answer with no `anies` is an unexpected body, not an empty report."""
    fake_alma.script("GET", "/analytics/reports", {"something": "else"})
    with pytest.raises(AlmaUnexpectedBodyError, match="Analytics"):
        make_client().get_report_page("/x")


def test_report_limit_must_be_a_multiple_of_25(make_client: ClientFactory) -> None:
    """Alma takes 25..1000 in steps of 25; anything else is refused before a call."""
    with pytest.raises(ValueError, match="multiple of 25"):
        make_client().get_report_page("/x", limit=30)
