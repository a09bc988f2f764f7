"""Privacy: planted names, IDs, emails and barcodes never reach the history or an error."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.errors import PatronLoadFileError
from reconciler.patron_loads import count_file, ingest

from .helpers import (
    CANARIES,
    CANARY_EMAIL,
    CANARY_NAME,
    CANARY_PID,
    users_document,
    write_zip,
)


def assert_no_canary(text: str) -> None:
    for canary in CANARIES:
        assert canary not in text, f"{canary!r} leaked"


def test_history_holds_no_personal_value(tmp_path: Path) -> None:
    """The written JSON holds counts and codes, none of the planted personal values."""
    xml = tmp_path / "patrons_20250301.xml"
    xml.write_bytes(users_document(["01", "02", ""]))
    zipped = write_zip(tmp_path / "patrons_20250302.zip", {"m.xml": users_document(["03"])})
    history = tmp_path / "patron-load-history.json"
    ingest(history, "ucf", [xml, zipped])
    assert_no_canary(history.read_text())
    assert_no_canary(repr(count_file(xml)))


def _damaged(document: bytes) -> list[bytes]:
    """Ways to break a file right next to a personal value."""
    first, last = CANARY_NAME.split()
    return [
        document.replace(f"<last_name>{last}</last_name>".encode(), f"<last_name>{last}".encode()),
        document.replace(first.encode(), first.encode() + b"\xff\xfe\xc3(", 1),
        document.replace(CANARY_PID.encode(), CANARY_PID.encode() + b"<", 1),
        document.replace(CANARY_PID.encode(), b"&" + CANARY_PID.encode(), 1),
        document.replace(b'segment_type="External"', f'segment_type="{first}'.encode(), 1),
        document.replace(b"<users>", b"<collection>").replace(b"</users>", b"</collection>"),
        document[: document.index(CANARY_PID.encode()) + 8],
        document.replace(f"{first}<".encode(), f"&{first};<".encode(), 1),
    ]


@pytest.mark.parametrize("case", range(8))
@pytest.mark.parametrize("zipped", [False, True])
def test_errors_never_quote_personal_values(tmp_path: Path, case: int, zipped: bool) -> None:
    """Malformed XML next to a personal value yields a message without that value."""
    broken = _damaged(users_document(["01", "02"]))[case]
    path = tmp_path / "load.xml"
    if zipped:
        path = write_zip(tmp_path / "load.zip", {"m.xml": broken})
    else:
        path.write_bytes(broken)
    history = tmp_path / "patron-load-history.json"
    with pytest.raises(PatronLoadFileError) as caught:
        ingest(history, "ucf", [path])
    message = str(caught.value)
    assert_no_canary(message)
    assert message.startswith(str(path))
    assert not history.exists()


def test_values_not_shaped_like_codes_are_counted_not_stored(tmp_path: Path) -> None:
    """A name, an email or an overlong text in <user_group> is counted as unrecognised only."""
    misplaced = [CANARY_NAME, "Quuxington, Zelda", CANARY_EMAIL, f"{CANARY_NAME} " * 20]
    path = tmp_path / "load.xml"
    path.write_bytes(users_document(["01", *misplaced]))
    history = tmp_path / "patron-load-history.json"
    result = ingest(history, "ucf", [path])
    (item,) = result.added
    assert item.users == 5
    assert item.users_by_group == (("01", 1),)
    assert item.unrecognised_values == 4
    text = history.read_text()
    assert_no_canary(text)
    assert "Quuxington" not in text
    assert '"unrecognised_values": 4' in text
