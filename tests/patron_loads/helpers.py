"""Builders of small SIS files for the patron-load tests, shaped like MIT's real samples.

Canary values are planted in every personal field so the privacy tests can prove that none
of them reaches the history file or an error message.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

SHARED_SIS = Path(__file__).resolve().parents[1] / "fixtures" / "alma-samples" / "sis"
ALMA_NS = "http://com/exlibris/digitool/repository/extsystem/xmlbeans"

CANARY_PID = "CANARY-PID-314159"
CANARY_NAME = "Zebedee Canaryfield"
CANARY_EMAIL = "zebedee.canaryfield@canary.example"
CANARY_BARCODE = "CANARYBARCODE2718"
CANARIES = (CANARY_PID, *CANARY_NAME.split(), CANARY_EMAIL, CANARY_BARCODE)

MISSING = None  # a user without any <user_group> element


def user_xml(group: str | None, record_type: str | None = "PUBLIC", *, index: int = 0) -> str:
    """One `<user>` record with canaries in every personal field."""
    first, last = CANARY_NAME.split()
    group_line = "" if group is None else f'<user_group desc="Group">{group}</user_group>'
    type_line = "" if record_type is None else f'<record_type desc="x">{record_type}</record_type>'
    return f"""
  <user>
    {type_line}
    <primary_id>{CANARY_PID}-{index}</primary_id>
    <first_name>{first}</first_name>
    <last_name>{last}</last_name>
    {group_line}
    <account_type desc="External">EXTERNAL</account_type>
    <status desc="Active">ACTIVE</status>
    <contact_info>
      <emails>
        <email preferred="true" segment_type="External">
          <email_address>{CANARY_EMAIL}</email_address>
        </email>
      </emails>
    </contact_info>
    <user_identifiers>
      <user_identifier segment_type="External">
        <id_type desc="Barcode">01</id_type>
        <value>{CANARY_BARCODE}{index}</value>
      </user_identifier>
    </user_identifiers>
  </user>"""


def users_document(
    groups: Iterable[str | None],
    *,
    root: str = "users",
    namespace: str | None = None,
    record_types: Sequence[str | None] | None = None,
) -> bytes:
    """A complete XML document; `root="user"` gives a bare single user (one group only)."""
    groups = list(groups)
    types = list(record_types) if record_types is not None else ["PUBLIC"] * len(groups)
    records = [user_xml(g, t, index=i) for i, (g, t) in enumerate(zip(groups, types, strict=True))]
    xmlns = f' xmlns="{namespace}"' if namespace else ""
    if root == "user":
        assert len(records) == 1
        body = records[0].replace("<user>", f"<user{xmlns}>", 1)
    else:
        body = f"<{root}{xmlns}>{''.join(records)}\n</{root}>\n"
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + body.lstrip()).encode()


def write_zip(
    path: Path,
    members: dict[str, bytes],
    *,
    date_time: tuple[int, int, int, int, int, int] = (2025, 3, 1, 6, 0, 0),
    compression: int = zipfile.ZIP_DEFLATED,
) -> Path:
    """A zip of `members` (name → bytes), each stamped with `date_time`."""
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(zipfile.ZipInfo(name, date_time), data, compress_type=compression)
    return path
