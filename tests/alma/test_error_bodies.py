"""Alma error bodies, JSON or XML, become the right `AlmaApiError` type with code and trackingId."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.alma.errors import error_for_response, parse_error_body, raise_for_response
from reconciler.errors import (
    AlmaApiError,
    AlmaAuthError,
    AlmaCall,
    AlmaConflictError,
    AlmaDailyLimitError,
    AlmaNotFoundError,
    AlmaPerSecondLimitError,
    AlmaServerError,
    AlmaUnexpectedBodyError,
)

from .fakes import FIXTURES, json_error, xml_error

CALL = AlmaCall("GET", "/users/{user_id}")
JSON = "application/json"
XML = "application/xml"


def _json(body: object) -> bytes:
    return json.dumps(body).encode()


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (400, "401861", AlmaNotFoundError),
        (400, "401890", AlmaNotFoundError),
        (404, "", AlmaNotFoundError),
        (400, "UNAUTHORIZED", AlmaAuthError),
        (401, "", AlmaAuthError),
        (403, "INVALID_REQUEST", AlmaAuthError),
        (403, "FORBIDDEN", AlmaAuthError),
        (429, "PER_SECOND_THRESHOLD", AlmaPerSecondLimitError),
        (429, "DAILY_THRESHOLD", AlmaDailyLimitError),
        (409, "", AlmaConflictError),
        (400, "401850", AlmaConflictError),
        (400, "402222", AlmaConflictError),
        (400, "402223", AlmaConflictError),
        (500, "", AlmaServerError),
        (503, "402119", AlmaServerError),
        (400, "401676", AlmaApiError),
    ],
)
def test_json_error_bodies_map_to_types(status: int, code: str, expected: type) -> None:
    """Each Alma code (or, without one, the status) picks its error type from a JSON body."""
    body = _json(json_error(code, "Something happened.")) if code else b""
    error = error_for_response(CALL, status, JSON, body)
    assert type(error) is expected
    assert error.status == status
    assert error.alma_code == code


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (400, "UNAUTHORIZED", AlmaAuthError),
        (400, "401861", AlmaNotFoundError),
        (429, "PER_SECOND_THRESHOLD", AlmaPerSecondLimitError),
        (429, "DAILY_THRESHOLD", AlmaDailyLimitError),
        (400, "402223", AlmaConflictError),
        (502, "GENERAL", AlmaServerError),
    ],
)
def test_xml_error_bodies_map_to_types(status: int, code: str, expected: type) -> None:
    """The namespaced XML `web_service_result` is read even when JSON was asked for."""
    error = error_for_response(CALL, status, XML, xml_error(code, "Told in XML.").encode())
    assert type(error) is expected
    assert error.alma_code == code
    assert error.tracking_id == "E01-TRACK-X"


def test_single_object_error_with_numeric_code_and_empty_tracking_id() -> None:
    """`error` as one object, a numeric code and an empty trackingId still parse."""
    body = (FIXTURES / "error_single_object_numeric_code.json").read_bytes()
    error = error_for_response(CALL, 400, JSON, body)
    assert isinstance(error, AlmaNotFoundError)
    assert error.alma_code == "401861"
    assert error.tracking_id == ""
    assert "trackingId" not in str(error)


def test_unauthorized_xml_fixture_is_an_auth_error() -> None:
    """Alma's XML key error (sent to a JSON client) is an auth error with its trackingId."""
    body = (FIXTURES / "error_unauthorized.xml").read_bytes()
    error = error_for_response(CALL, 400, "application/xml;charset=UTF-8", body)
    assert isinstance(error, AlmaAuthError)
    assert "API-key not defined" in str(error)
    assert "E02-0000000000-FAKE0-AWAE0000000001" in str(error)


def test_errors_exist_on_http_200_is_an_error() -> None:
    """A 200 whose body says errorsExist is treated as a failure, not a success."""
    error = error_for_response(CALL, 200, JSON, _json(json_error("401890", "Not found.")))
    assert isinstance(error, AlmaNotFoundError)
    assert error.status == 200


def test_errors_exist_false_on_200_is_success() -> None:
    """`errorsExist: false` (or a normal record) on 200 means success."""
    assert error_for_response(CALL, 200, JSON, _json({"errorsExist": False})) is None
    assert error_for_response(CALL, 200, JSON, _json({"primary_id": "x"})) is None
    assert error_for_response(CALL, 204, "", b"") is None


def test_html_401_page_is_an_unexpected_body_with_a_hint() -> None:
    """An HTML 401 page (the Alma UI host, not the API gateway) says what to check."""
    page = b"<!DOCTYPE html><html><head><title>HTTP Status 401</title></head><body/></html>"
    error = error_for_response(CALL, 401, "text/html", page)
    assert isinstance(error, AlmaUnexpectedBodyError)
    assert "ALMA_API_URL" in str(error)


@pytest.mark.parametrize(
    "body",
    [b'{"errorsExist": tru', b"\x00\x01binary", b"<web_service_result><errorsExist>"],
)
def test_unreadable_error_bodies_are_unexpected(body: bytes) -> None:
    """Truncated JSON, binary junk or broken XML on a 4xx is an unexpected-body error."""
    assert isinstance(error_for_response(CALL, 400, "", body), AlmaUnexpectedBodyError)


def test_server_error_wins_over_an_unreadable_body() -> None:
    """A 502 HTML page from a gateway is still a (retryable) server error."""
    error = error_for_response(CALL, 502, "text/html", b"<html>Bad gateway</html>")
    assert isinstance(error, AlmaServerError)
    assert error.retryable


def test_xml_with_doctype_is_refused() -> None:
    """An XML body that declares entities is never expanded, only reported as unreadable."""
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><web_service_result>&b;</web_service_result>'
    )
    assert isinstance(error_for_response(CALL, 400, XML, bomb), AlmaUnexpectedBodyError)


def test_message_names_call_code_message_and_tracking_id() -> None:
    """The message carries method, path, status, Alma's code, message and trackingId."""
    body = _json(json_error("402223", "Execution threshold reached.", "E01-ABC"))
    error = error_for_response(AlmaCall("POST", "/conf/jobs/M148"), 400, JSON, body)
    assert str(error) == (
        "POST /conf/jobs/M148 failed, HTTP 400, Alma error 402223: "
        "Execution threshold reached. (trackingId E01-ABC)"
    )


def test_daily_threshold_wins_when_several_errors_are_listed() -> None:
    """With several errors, the most serious code decides the type and leads the message."""
    body = {
        "errorsExist": True,
        "errorList": {
            "error": [
                {"errorCode": "GENERAL", "errorMessage": "First.", "trackingId": "T1"},
                {"errorCode": "DAILY_THRESHOLD", "errorMessage": "Daily.", "trackingId": "T2"},
            ]
        },
    }
    error = error_for_response(CALL, 429, JSON, _json(body))
    assert isinstance(error, AlmaDailyLimitError)
    assert error.alma_code == "DAILY_THRESHOLD"
    assert error.tracking_id == "T2"
    assert error.alma_message == "Daily.; First."


def test_personal_values_are_redacted_from_alma_messages() -> None:
    """A user id Alma repeats in its message is replaced by the placeholder."""
    body = _json(json_error("401861", "User with identifier N00012345 was not found."))
    with pytest.raises(AlmaNotFoundError) as caught:
        raise_for_response(CALL, 400, JSON, body, redactions={"N00012345": "{user_id}"})
    assert "N00012345" not in str(caught.value)
    assert "{user_id}" in str(caught.value)


def test_parse_error_body_handles_wrapped_envelope_and_empty_list() -> None:
    """A wrapped JSON envelope parses, and errorsExist with no entries still reports an error."""
    wrapped = {"web_service_result": json_error("60107", "Invalid set ID.")}
    details = parse_error_body(_json(wrapped), JSON)
    assert details is not None
    assert details[0].code == "60107"
    empty = parse_error_body(_json({"errorsExist": "true", "errorList": None}), JSON)
    assert empty is not None
    assert len(empty) == 1


def test_html_page_on_200_is_an_unexpected_body() -> None:
    """A UI login page answering 200 is not a success nobody can read."""
    page = b"<html><body>Sign in</body></html>"
    error = error_for_response(CALL, 200, "text/html;charset=UTF-8", page)
    assert isinstance(error, AlmaUnexpectedBodyError)


def test_xml_error_labelled_as_json_is_still_read() -> None:
    """The body decides: an XML error with a JSON Content-Type is parsed as XML."""
    body = b"\xef\xbb\xbf" + xml_error("UNAUTHORIZED", "API-key not defined").encode()
    assert isinstance(error_for_response(CALL, 400, JSON, body), AlmaAuthError)


@given(
    status=st.sampled_from([200, 204, 400, 401, 403, 404, 409, 429, 500, 503]),
    body=st.binary(max_size=200) | st.text(max_size=200).map(str.encode),
    content_type=st.sampled_from(["", JSON, XML, "text/html", "text/plain"]),
)
def test_any_answer_maps_to_none_or_an_alma_error(
    status: int, body: bytes, content_type: str
) -> None:
    """Whatever bytes come back, the mapper returns None or an AlmaApiError, never crashes."""
    error = error_for_response(CALL, status, content_type, body)
    if status >= 400:
        assert isinstance(error, AlmaApiError)
    else:
        assert error is None or isinstance(error, AlmaApiError)


def test_unknown_429_is_treated_as_per_second() -> None:
    """A 429 without a code we know is the retryable per-second kind."""
    assert isinstance(error_for_response(CALL, 429, "", b""), AlmaPerSecondLimitError)
