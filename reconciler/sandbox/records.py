"""User records as stored: the blank shape swap-all resets to, search words, table rows.

Shared by the seeder (bulk inserts) and the users endpoints (PUT), so a seeded user and a
user rewritten by the API look exactly alike in the database.
"""

from __future__ import annotations

import json
import re
import zlib
from typing import Any

from reconciler.sandbox.store import dumps

# Fields an EXTERNAL user keeps on PUT unless `override` names them (Alma's "protected" list).
PROTECTED_FIELDS = (
    "user_group",
    "job_category",
    "pin_number",
    "preferred_language",
    "campus_code",
    "rs_library",
    "user_title",
    "library_notice",
    "pref_first_name",
    "pref_middle_name",
    "pref_last_name",
    "cataloger_level",
)
# `override` uses Alma's parameter names; two differ from the JSON field names.
OVERRIDE_NAMES = {"rs_libraries": "rs_library", "library_notices": "library_notice"}

# Word-searchable fields for `q=field~value` (user_group is searched through the code table).
SEARCH_FIELDS = (
    "primary_id",
    "first_name",
    "last_name",
    "middle_name",
    "email",
    "identifiers",
    "job_category",
    "phone_number",
)

_WORD = re.compile(r"[0-9a-z]+")


def blank_user() -> dict[str, Any]:
    """What a swap-all PUT leaves in a field the body omits."""
    empty = {"value": "", "desc": ""}
    return {
        "record_type": {"value": "PUBLIC", "desc": "Public"},
        "primary_id": "",
        "first_name": "",
        "middle_name": "",
        "last_name": "",
        "full_name": "",
        "user_title": dict(empty),
        "job_category": dict(empty),
        "job_description": "",
        "gender": dict(empty),
        "user_group": dict(empty),
        "campus_code": dict(empty),
        "web_site_url": "",
        "cataloger_level": {"value": "00", "desc": "[00] Default Level"},
        "preferred_language": {"value": "en", "desc": "English"},
        "expiry_date": "",
        "purge_date": "",
        "account_type": {"value": "INTERNAL", "desc": "Internal"},
        "external_id": "",
        "password": "",
        "force_password_change": "",
        "status": {"value": "ACTIVE", "desc": "Active"},
        "status_date": "",
        "contact_info": {"address": [], "email": [], "phone": []},
        "pref_first_name": "",
        "pref_middle_name": "",
        "pref_last_name": "",
        "pref_name_suffix": "",
        "is_researcher": False,
        "user_identifier": [],
        "user_role": [],
        "user_block": [],
        "user_note": [],
        "user_statistic": [],
        "proxy_for_user": [],
        "rs_library": [],
        "library_notice": [],
    }


# what a list or GET adds to a user on the way out; never stored, so a census page can append
# them to the stored JSON without looking inside it (reconciler.sandbox.users)
SERVED_ONLY_KEYS = frozenset({"link", "loans", "requests", "fees"})


def pack(record: dict[str, Any]) -> bytes:
    """A record as stored: JSON deflated against `RECORD_DICTIONARY`, behind its tag byte."""
    kept = {k: v for k, v in record.items() if k not in SERVED_ONLY_KEYS}
    deflater = zlib.compressobj(6, zlib.DEFLATED, -15, zdict=RECORD_DICTIONARY)
    return PACKED_TAG + deflater.compress(dumps(kept).encode()) + deflater.flush()


def unpack(blob: bytes) -> dict[str, Any]:
    record: dict[str, Any] = json.loads(unpacked_json(blob))
    return record


def unpacked_json(blob: bytes) -> bytes:
    """The stored JSON text of a record, in either format a state folder may hold."""
    if blob[:1] == PACKED_TAG:
        return zlib.decompressobj(-15, zdict=RECORD_DICTIONARY).decompress(blob[1:])
    return zlib.decompress(blob)  # a zlib stream (first byte 0x78): states seeded before


# Records are deflated against a preset dictionary: a typical record's JSON, so the keys, code
# values and descriptions every record repeats are copied from it instead of coded again.
# Measured on 10,000 seeded records (about 2 KB of JSON each), against the plain zlib level 1
# stored before: 163 instead of 865 bytes a record, and 1.9 instead of 12.9 µs to inflate one
# (a census page inflates 100: that was 40 % of the sandbox's CPU per page). The bytes below
# must never change, or stored records stop inflating: a new dictionary gets a new tag byte,
# and `unpacked_json` keeps reading the old ones.
PACKED_TAG = b"\x01"
RECORD_DICTIONARY = (
    b'{"record_type":{"value":"PUBLIC","desc":"Public"},"primary_id":"EXA0000001",'
    b'"first_name":"Ada","middle_name":"","last_name":"Example","full_name":"Ada Example",'
    b'"user_title":{"value":"","desc":""},"job_category":{"value":"","desc":""},'
    b'"job_description":"","gender":{"value":"","desc":""},'
    b'"user_group":{"value":"STUDENT","desc":"Student"},"campus_code":{"value":"","desc":""},'
    b'"web_site_url":"","cataloger_level":{"value":"00","desc":"[00] Default Level"},'
    b'"preferred_language":{"value":"en","desc":"English"},"expiry_date":"2028-01-01Z",'
    b'"purge_date":"2029-01-01Z","account_type":{"value":"EXTERNAL","desc":"External"},'
    b'"external_id":"SIS_STUDENTS","password":"","force_password_change":"",'
    b'"status":{"value":"ACTIVE","desc":"Active"},"status_date":"2025-01-01Z",'
    b'"contact_info":{"address":[{"preferred":true,"segment_type":"External",'
    b'"line1":"1 Example St","city":"Tallahassee","state_province":"FL",'
    b'"postal_code":"32301","country":{"value":"USA","desc":"United States"},'
    b'"address_type":[{"value":"home","desc":"Home"}]}],"email":[{"preferred":true,'
    b'"segment_type":"External","email_address":"ada.example1@example.edu",'
    b'"email_type":[{"value":"school","desc":"School"}]}],"phone":[{"preferred":true,'
    b'"segment_type":"External","phone_number":"(850) 555-0100",'
    b'"phone_type":[{"value":"mobile","desc":"Mobile"}]}]},"pref_first_name":"",'
    b'"pref_middle_name":"","pref_last_name":"","pref_name_suffix":"","is_researcher":false,'
    b'"user_identifier":[{"segment_type":"External","id_type":{"value":"BARCODE",'
    b'"desc":"Barcode"},"value":"2EXA000000001","status":"ACTIVE"},{"segment_type":'
    b'"External","id_type":{"value":"UNIV_ID","desc":"University ID"},"value":"U00000001EX",'
    b'"status":"ACTIVE"}],"user_role":[{"status":{"value":"ACTIVE","desc":"Active"},'
    b'"scope":{"value":"01FALSC_EXA","desc":"01FALSC_EXA"},"role_type":{"value":"200",'
    b'"desc":"Patron"},"parameter":[]}],"user_block":[],"user_note":[],"user_statistic":[],'
    b'"proxy_for_user":[],"rs_library":[],"library_notice":[]}'
)


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def search_words(record: dict[str, Any]) -> str:
    """Field-tagged words (`last_name:smith`) padded with spaces, for LIKE '% field:word %'."""
    contact = record.get("contact_info") or {}
    sources: dict[str, list[str]] = {
        "primary_id": [str(record.get("primary_id") or "")],
        "first_name": [str(record.get("first_name") or "")],
        "last_name": [str(record.get("last_name") or "")],
        "middle_name": [str(record.get("middle_name") or "")],
        "email": [str(e.get("email_address") or "") for e in contact.get("email") or []],
        "phone_number": [str(p.get("phone_number") or "") for p in contact.get("phone") or []],
        "identifiers": [str(i.get("value") or "") for i in record.get("user_identifier") or []],
        "job_category": [str((record.get("job_category") or {}).get("value") or "")],
    }
    tagged = [f"{field}:{w}" for field, texts in sources.items() for t in texts for w in words(t)]
    return " " + " ".join(tagged) + " "


def group_of(record: dict[str, Any]) -> str:
    """The group code, whether sent as {"value": code} (Alma's shape) or a bare string."""
    group = record.get("user_group")
    if isinstance(group, dict):
        return str(group.get("value") or "")
    return str(group or "")


def user_row(
    inst: str, record: dict[str, Any], loans: int, requests: int, fees: float, *, manual: str
) -> tuple[Any, ...]:
    """The `users` table row for a record (column order as in the schema)."""
    return (
        inst,
        record["primary_id"],
        group_of(record),
        str(record.get("last_name") or ""),
        str(record.get("first_name") or ""),
        search_words(record),
        loans,
        requests,
        fees,
        manual,
        pack(record),
    )


def identifier_rows(inst: str, record: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [
        (inst, str(i["value"]), record["primary_id"])
        for i in record.get("user_identifier") or []
        if i.get("value")
    ]


# What a GET adds to the stored record (expansions, the self link): never part of a PUT's check.
SERVED_ONLY = ("loans", "requests", "fees", "link")


def strict_put_difference(body: dict[str, Any], stored: dict[str, Any]) -> str | None:
    """The first field a user PUT changes besides `user_group`, or None when there is none.

    The body must be the record as served, with only `user_group` changed and `user_role`
    either left out (Alma then keeps the roles) or sent back unchanged. One-member lists are
    compared as Alma may serve them (a bare object), so either shape passes.
    """
    ignored = {"user_group", *SERVED_ONLY}
    for key in sorted((body.keys() | stored.keys()) - ignored):
        if key == "user_role" and key not in body:
            continue
        if key not in body:
            if _blank(stored.get(key)):
                continue  # swap-all resets it to empty: nothing is lost
            return f"{key} is missing"
        if _canonical(body[key]) != _canonical(stored.get(key)):
            return f"{key} differs from the record as read"
    return None


def _blank(value: Any) -> bool:
    if isinstance(value, dict):
        return not value.get("value")
    return value in (None, "", [])


def _canonical(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        items = [_canonical(v) for v in value]
        return items[0] if len(items) == 1 and isinstance(items[0], dict) else items
    return value
