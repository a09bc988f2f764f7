"""Real Alma payloads from tests/fixtures/alma-samples read cleanly through our edge code.

The samples are public files copied unchanged with their sources (SOURCES.md there), so these
tests run on every clone. The GPL-licensed SLSP samples are not copied; their quirks (a repeated
`external_id`, a `desc` with stray spaces) are covered by tests/alma/fixtures/user_with_quirks.json
in test_normalise.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.alma.errors import error_for_response, parse_error_body
from reconciler.alma.normalise import as_date, as_int, code_of, parse_json
from reconciler.alma.paging import read_page
from reconciler.alma.xmlsafe import child, local_name, parse_xml, text_of
from reconciler.errors import AlmaApiError, AlmaCall

from .fakes import SHARED_SAMPLES

API_JSON = SHARED_SAMPLES / "api-json"
API_XML = SHARED_SAMPLES / "api-xml"


def _samples(folder: Path, pattern: str) -> list[Path]:
    found = sorted(folder.glob(pattern))
    assert found, f"no {pattern} in {folder}"  # the samples are part of the repository
    return found


@pytest.mark.parametrize("sample", _samples(API_JSON, "*.json"), ids=lambda p: p.name)
def test_every_json_sample_parses_and_is_classified(sample: Path) -> None:
    """Each JSON sample decodes (duplicate keys included) and reads as error or not."""
    document = parse_json(sample.read_bytes())
    assert isinstance(document, dict)
    details = parse_error_body(sample.read_bytes(), "application/json")
    assert (details is not None) == sample.name.startswith("error_")


@pytest.mark.parametrize("sample", _samples(API_XML, "*.xml"), ids=lambda p: p.name)
def test_every_xml_sample_parses_safely_and_is_not_an_error(sample: Path) -> None:
    """Each XML sample parses with the DOCTYPE-refusing parser and is not an error envelope."""
    root = parse_xml(sample.read_bytes())
    assert local_name(root) in {"user", "job"}
    assert parse_error_body(sample.read_bytes(), "application/xml") is None


def test_error_sample_becomes_an_error_with_tracking_id() -> None:
    """The real 402203 body (blank lines, result null) yields code and trackingId."""
    body = (API_JSON / "error_402203_with_result_null.json").read_bytes()
    error = error_for_response(AlmaCall("GET", "/bibs/{mms_id}"), 400, "application/json", body)
    assert isinstance(error, AlmaApiError)
    assert error.alma_code == "402203"
    assert error.tracking_id == "E02-2706205445-WZJWP-AWAE1632347523"


def test_user_samples_expose_group_dates_and_counts() -> None:
    """The Ex Libris doc user reads: group 08, dates with Z, loans as a string."""
    user = parse_json((API_JSON / "exl_doc_user_johns.json").read_bytes())
    assert code_of(user["user_group"]) == "08"
    assert as_date(user["expiry_date"]) is not None
    assert as_int(user["loans"]) == 14


def test_past_end_sample_is_an_empty_page() -> None:
    """The loans page read past the end has no records and a stale total."""
    page = read_page(
        parse_json((API_JSON / "list_envelope_past_end_empty.json").read_bytes()), "item_loan"
    )
    assert page.records == ()
    assert page.total == 145


def test_xml_user_sample_reads_group_code() -> None:
    """The XML twin of the doc user carries the group code as element text."""
    root = parse_xml((API_XML / "exl_doc_user_johns.xml").read_bytes())
    assert text_of(child(root, "user_group")) == "08"
