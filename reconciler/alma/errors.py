"""Turn an Alma answer into one of our `AlmaApiError` types, whatever format Alma chose.

Design decision: the error body decides before the HTTP status does. Alma says "not found" with
HTTP 400, sends key errors as XML to a JSON client, and sometimes reports errors on HTTP 200, so
the body is read first (JSON `errorsExist`/`errorList`, or namespaced XML `web_service_result`)
and Alma's own `errorCode` picks the type; the status only breaks ties. Messages carry the call
(method and path, never the query string or key), Alma's code, message and trackingId.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree as ET

from reconciler.alma.normalise import as_bool, as_list, parse_json
from reconciler.alma.xmlsafe import child, children, local_name, parse_xml, text_of
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

PER_SECOND_THRESHOLD = "PER_SECOND_THRESHOLD"
DAILY_THRESHOLD = "DAILY_THRESHOLD"
AUTH_CODES = frozenset({"UNAUTHORIZED", "INVALID_REQUEST", "FORBIDDEN"})
# 401861/401890: user not found; 90101: code or mapping table does not exist; 60107: invalid
# (unknown) set id.
NOT_FOUND_CODES = frozenset({"401861", "401890", "90101", "60107"})
# Alma refusing a change because of the record's or the system's state, not the request's form:
# 401850 user cannot be deleted (loans, fees...), 402222/402223 job execution thresholds,
# 60347 overlaps a running job, 402263 set name already exists.
CONFLICT_CODES = frozenset({"401850", "402222", "402223", "60347", "402263"})

_MESSAGE_LIMIT = 500
_HTML_HINT = (
    "Alma answered with an HTML page instead of an API body; check that the base URL "
    "(ALMA_API_URL or the region) is the API gateway, not the Alma UI host"
)


@dataclass(frozen=True)
class AlmaErrorDetail:
    """One entry of Alma's `errorList`: code (always text), message and trackingId."""

    code: str
    message: str
    tracking_id: str


class UnreadableBodyError(ValueError):
    """The body is neither usable JSON nor an XML document (HTML, truncated, binary)."""


def raise_for_response(
    call: AlmaCall,
    status: int,
    content_type: str,
    body: bytes,
    *,
    redactions: Mapping[str, str] | None = None,
) -> None:
    """Raise the matching `AlmaApiError` if Alma reported a failure; return quietly otherwise.

    `redactions` maps values that may be personal (a user id in the path) to placeholders, so
    Alma's own message ("User with identifier X was not found") is repeated without them.
    """
    error = error_for_response(call, status, content_type, body, redactions=redactions)
    if error is not None:
        raise error


def error_for_response(
    call: AlmaCall,
    status: int,
    content_type: str,
    body: bytes,
    *,
    redactions: Mapping[str, str] | None = None,
) -> AlmaApiError | None:
    """The error Alma's answer stands for, or None when the call succeeded."""
    if 200 <= status < 300 and _plainly_json_success(body):
        return None  # the caller decodes it once; decoding it here too doubled the client's CPU
    try:
        details = parse_error_body(body, content_type)
        unreadable_reason = ""
    except UnreadableBodyError as error:
        details, unreadable_reason = None, str(error)
    if 200 <= status < 300 and not details:
        # A success nobody can read (the UI host's login page answered 200) is still a failure.
        if unreadable_reason:
            return AlmaUnexpectedBodyError(call, status=status, alma_message=unreadable_reason)
        return None
    if status >= 500:
        return _build(AlmaServerError, call, status, details, redactions)
    if details:
        return _build(_classify(status, details), call, status, details, redactions)
    if unreadable_reason:
        return AlmaUnexpectedBodyError(call, status=status, alma_message=unreadable_reason)
    return _build(_classify(status, ()), call, status, None, redactions)


def _plainly_json_success(body: bytes) -> bool:
    """A JSON document that does not mention errorsExist cannot be an error envelope."""
    head = body[:16].lstrip().removeprefix(b"\xef\xbb\xbf").lstrip()
    return head.startswith((b"{", b"[")) and b'"errorsExist"' not in body


def parse_error_body(body: bytes, content_type: str = "") -> tuple[AlmaErrorDetail, ...] | None:
    """Alma's error list from a JSON or XML body; None if the body is not an error envelope.

    Raises `UnreadableBodyError` for HTML pages and bodies that are neither JSON nor XML.
    """
    text = body.strip().removeprefix(b"\xef\xbb\xbf").strip()
    if not text:
        return None
    # The body decides, not the Content-Type: Alma's gateway sends XML key errors to JSON
    # clients, and some proxies label every answer text/plain.
    head = text[:200].lower()
    if head.startswith((b"<!doctype html", b"<html")) or (
        "html" in content_type and text.startswith(b"<")
    ):
        raise UnreadableBodyError(_HTML_HINT)
    if text.startswith(b"<"):
        try:
            root = parse_xml(text)
        except ValueError as error:
            raise UnreadableBodyError("Alma's XML answer could not be read") from error
        return _details_from_xml(root)
    try:
        document = parse_json(text)
    except ValueError as error:
        raise UnreadableBodyError("Alma's answer is neither JSON nor XML") from error
    return _details_from_json(document)


def _details_from_json(document: Any) -> tuple[AlmaErrorDetail, ...] | None:
    if not isinstance(document, dict):
        return None
    # Some gateways wrap the envelope: {"web_service_result": {...}}.
    envelope = document.get("web_service_result", document)
    if not isinstance(envelope, dict) or "errorsExist" not in envelope:
        return None
    try:
        errors_exist = as_bool(envelope.get("errorsExist"))
    except ValueError:
        errors_exist = True  # an envelope we cannot read is still an envelope: treat as errors
    if not errors_exist:
        return None
    error_list = envelope.get("errorList")
    entries = as_list(error_list.get("error")) if isinstance(error_list, dict) else []
    details = tuple(
        AlmaErrorDetail(
            code=_text(entry.get("errorCode")),
            message=_text(entry.get("errorMessage")),
            tracking_id=_text(entry.get("trackingId")),
        )
        for entry in entries
        if isinstance(entry, dict)
    )
    return details or (AlmaErrorDetail("", "errorsExist is true but errorList is empty", ""),)


def _details_from_xml(root: ET.Element) -> tuple[AlmaErrorDetail, ...] | None:
    if local_name(root) != "web_service_result":
        return None
    if text_of(child(root, "errorsExist")).lower() not in {"true", "1"}:
        return None
    error_list = child(root, "errorList")
    entries = children(error_list, "error") if error_list is not None else []
    details = tuple(
        AlmaErrorDetail(
            code=text_of(child(entry, "errorCode")),
            message=text_of(child(entry, "errorMessage")),
            tracking_id=text_of(child(entry, "trackingId")),
        )
        for entry in entries
    )
    return details or (AlmaErrorDetail("", "errorsExist is true but errorList is empty", ""),)


def _text(value: object) -> str:
    # errorCode comes as a number in some bodies (401861) and a string in others.
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _classify(status: int, details: tuple[AlmaErrorDetail, ...]) -> type[AlmaApiError]:
    codes = {detail.code.upper() for detail in details}
    # First match wins: Alma's own code decides, the HTTP status is the fallback.
    rules: tuple[tuple[bool, type[AlmaApiError]], ...] = (
        (DAILY_THRESHOLD in codes, AlmaDailyLimitError),
        (PER_SECOND_THRESHOLD in codes, AlmaPerSecondLimitError),
        (bool(codes & AUTH_CODES) or status in (401, 403), AlmaAuthError),
        (bool(codes & NOT_FOUND_CODES) or status == 404, AlmaNotFoundError),
        (bool(codes & CONFLICT_CODES) or status == 409, AlmaConflictError),
        # A 429 without a code we know: assume the per-second kind. The retry budget is
        # small, so a misread daily limit costs a few calls, while the reverse would stop a run.
        (status == 429, AlmaPerSecondLimitError),
    )
    return next((kind for matched, kind in rules if matched), AlmaApiError)


_PRIORITY = (
    {DAILY_THRESHOLD},
    {PER_SECOND_THRESHOLD},
    AUTH_CODES,
    NOT_FOUND_CODES,
    CONFLICT_CODES,
)


def _build(
    kind: type[AlmaApiError],
    call: AlmaCall,
    status: int,
    details: tuple[AlmaErrorDetail, ...] | None,
    redactions: Mapping[str, str] | None,
) -> AlmaApiError:
    if not details:
        return kind(call, status=status)
    primary = _primary(details)
    messages = [primary.message] + [d.message for d in details if d is not primary]
    message = "; ".join(m for m in messages if m)
    for value, placeholder in (redactions or {}).items():
        if value:
            message = message.replace(value, placeholder)
    if len(message) > _MESSAGE_LIMIT:
        message = message[: _MESSAGE_LIMIT - 1] + "…"
    return kind(
        call,
        status=status,
        alma_code=primary.code,
        alma_message=message,
        tracking_id=primary.tracking_id,
    )


def _primary(details: tuple[AlmaErrorDetail, ...]) -> AlmaErrorDetail:
    # The detail that decided the type leads the message, so the code shown matches the type.
    for group in _PRIORITY:
        for detail in details:
            if detail.code.upper() in group:
                return detail
    return details[0]
