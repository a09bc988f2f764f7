"""Alma XML request bodies read into the JSON shapes the handlers use.

The inverse of `xmlout`: wrapper elements (`<user_identifiers>`) become lists, elements backed
by a code table become `{"value", "desc"}`, and the few scalar attributes (`preferred`,
`segment_type`) become fields. Alma accepts XML bodies for users, code tables, sets and jobs;
the tool sends JSON, but a curl user pasting Ex Libris' XML examples should not be refused.
"""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree as ET

# Fields backed by a code table: JSON wants {"value": …} even when the XML has no desc.
CODE_FIELDS = frozenset(
    {
        "record_type",
        "user_title",
        "job_category",
        "gender",
        "user_group",
        "campus_code",
        "cataloger_level",
        "preferred_language",
        "account_type",
        "status",
        "id_type",
        "role_type",
        "scope",
        "address_type",
        "email_type",
        "phone_type",
        "note_type",
        "block_type",
        "block_description",
        "statistic_category",
        "category_type",
        "country",
        "type",
        "content",
        "private",
        "sub_system",
        "language",
    }
)
_SCALAR_ATTRIBUTES = frozenset({"preferred", "preferred_sms", "segment_type"})
_FLAGS = frozenset({"preferred", "preferred_sms", "default", "enabled", "user_viewable"})
# XML wrapper → the JSON list field it becomes (JSON flattens these lists).
_WRAPPERS = {
    "addresses": "address",
    "emails": "email",
    "phones": "phone",
    "address_types": "address_type",
    "email_types": "email_type",
    "phone_types": "phone_type",
    "user_identifiers": "user_identifier",
    "user_roles": "user_role",
    "user_blocks": "user_block",
    "user_notes": "user_note",
    "user_statistics": "user_statistic",
    "proxy_for_users": "proxy_for_user",
    "rs_libraries": "rs_library",
    "library_notices": "library_notice",
    "parameters": "parameter",
    "rows": "row",
    "members": "member",
}


def parse_body(data: bytes) -> Any:
    """The XML document as JSON-shaped data (root element dropped, as in Alma's JSON)."""
    root = ET.fromstring(data)  # noqa: S314 - a local sandbox; entity expansion is bounded
    return _object(root)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _object(element: ET.Element) -> dict[str, Any]:
    result: dict[str, Any] = {
        key: _scalar(key, value)
        for key, value in element.attrib.items()
        if key in _SCALAR_ATTRIBUTES
    }
    for child in element:
        name = _local(child.tag)
        if name in _WRAPPERS:
            item = _WRAPPERS[name]
            result[item] = [_value(item, c) for c in child if _local(c.tag) == item]
        else:
            result[name] = _value(name, child)
    return result


def _value(name: str, element: ET.Element) -> Any:
    if len(element) or set(element.attrib) & _SCALAR_ATTRIBUTES:
        return _object(element)
    text = (element.text or "").strip()
    if name in CODE_FIELDS or "desc" in element.attrib:
        return {"value": text, "desc": element.get("desc", "")}
    return _scalar(name, text)


def _scalar(name: str, text: str) -> Any:
    if name in _FLAGS and text.lower() in ("true", "false"):
        return text.lower() == "true"
    return text
