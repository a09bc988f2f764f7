"""JSON payloads rendered as Alma's XML, for callers that do not ask for JSON.

Alma's JSON is a mechanical flattening of its XML, so the reverse is mechanical too:
`{"value": v, "desc": d}` becomes `<x desc="d">v</x>`, a list field `x` becomes
`<xs><x/>…</xs>` (the XML wraps lists, JSON does not), and `total_record_count` on a list
envelope becomes an attribute of the root. Good enough for humans poking with curl, and for
the patron-load files the seeder writes; the tool itself always asks for JSON.

Built with plain string joins rather than ElementTree: the seeder writes tens of thousands of
user records, and this is several times faster.
"""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape, quoteattr

# List fields whose XML wrapper is not simply the field name plus "s".
_WRAPPERS = {"address": "addresses", "proxy_for_user": "proxy_for_users", "row": "rows"}
# Envelopes whose list sits directly under the root (<users><user/>…</users>).
_ENVELOPE_ITEMS = {
    "user",
    "set",
    "member",
    "job",
    "job_instance",
    "integration_profile",
    "mapping_table",
    "code_table",
    "event",
}
# Scalars that XML carries as attributes (<email preferred="true" segment_type="External">).
_ATTRIBUTES = {"preferred", "preferred_sms", "segment_type"}
DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'


def to_xml(root: str, payload: Any) -> bytes:
    """A whole XML document with `root` as its element."""
    if isinstance(payload, dict):
        return (DECLARATION + _element(root, payload, top=True)).encode()
    return (DECLARATION + _leaf(root, payload, "")).encode()


def element_xml(root: str, payload: dict[str, Any]) -> bytes:
    """One element without the XML declaration, for concatenating records into a file."""
    return _element(root, payload).encode()


def _element(name: str, data: dict[str, Any], *, top: bool = False, attrs: str = "") -> str:
    parts: list[str] = []
    for key, value in data.items():
        if (key == "total_record_count" and top) or (key == "link" and isinstance(value, str)):
            attrs += f" {key}={quoteattr(str(value))}"
        elif key in _ATTRIBUTES and not isinstance(value, (dict, list)):
            if value is not None:
                text = ("true" if value else "false") if isinstance(value, bool) else str(value)
                attrs += f" {key}={quoteattr(text)}"
        elif isinstance(value, list):
            items = "".join(_child(key, item) for item in value)
            if top and key in _ENVELOPE_ITEMS:
                parts.append(items)
            else:
                wrapper = _WRAPPERS.get(key, f"{key}s")
                parts.append(f"<{wrapper}>{items}</{wrapper}>" if items else f"<{wrapper}/>")
        else:
            parts.append(_child(key, value))
    body = "".join(parts)
    return f"<{name}{attrs}>{body}</{name}>" if body else f"<{name}{attrs}/>"


def _child(key: str, value: Any) -> str:
    if isinstance(value, dict):
        if "value" in value and set(value) <= {"value", "desc", "link"}:
            attrs = "".join(
                f" {a}={quoteattr(str(value[a]))}"
                for a in ("desc", "link")
                if value.get(a) is not None and (a == "desc" or value.get(a))
            )
            return _leaf(key, value["value"], attrs)
        return _element(key, value)
    return _leaf(key, value, "")


def _leaf(name: str, value: Any, attrs: str) -> str:
    if value is None or value == "":
        return f"<{name}{attrs}/>"
    text = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return f"<{name}{attrs}>{escape(text)}</{name}>"
