"""Bad SIS files: each fails with one clear PatronLoadFileError naming the file and the place."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest

from reconciler.errors import PatronLoadFileError
from reconciler.patron_loads import count_file

from .helpers import users_document, write_zip


def error_of(path: Path) -> str:
    with pytest.raises(PatronLoadFileError) as caught:
        count_file(path)
    return str(caught.value)


def test_missing_file(tmp_path: Path) -> None:
    """A path that does not exist says so, naming it."""
    message = error_of(tmp_path / "nope.xml")
    assert message.startswith(f"{tmp_path / 'nope.xml'}: cannot read the file")


def test_not_a_zip(tmp_path: Path) -> None:
    """A .zip that is not a zip says "not a zip file", naming the file."""
    path = tmp_path / "patrons_20250301.xml.zip"
    path.write_bytes(b"this is a text file, not an archive\n")
    message = error_of(path)
    assert message.startswith(f"{path}: not a zip file")


def test_truncated_zip(tmp_path: Path) -> None:
    """A zip cut short in transfer (no central directory) is reported as truncated or damaged."""
    path = write_zip(tmp_path / "patrons.zip", {"a.xml": users_document(["01"] * 200)})
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    message = error_of(path)
    assert message.startswith(f"{path}: not a zip file, or a truncated or damaged one")


def test_corrupted_zip_member_names_the_member(tmp_path: Path) -> None:
    """A member whose bytes were damaged (CRC mismatch) is named with its zip."""
    document = users_document(["01"] * 20)
    path = write_zip(tmp_path / "p.zip", {"ok.xml": document, "bad.xml": document}, compression=0)
    data = bytearray(path.read_bytes())
    second = data.index(b"STAFF" if b"STAFF" in data else b"PUBLIC", len(data) // 2)
    data[second] = ord("Q")  # still well-formed XML: only the CRC can notice
    path.write_bytes(bytes(data))
    message = error_of(path)
    assert message.startswith(f"{path}[bad.xml]: the zip member is damaged or truncated")
    assert "CRC" in message


def test_zip_without_xml(tmp_path: Path) -> None:
    """A zip with no .xml member says what it expected."""
    path = write_zip(tmp_path / "p.zip", {"notes.txt": b"hello"})
    assert "holds no XML file" in error_of(path)


def test_malformed_xml_gives_line_and_column(tmp_path: Path) -> None:
    """A mismatched tag is reported as file:line:col with libxml2's reason."""
    path = tmp_path / "load.xml"
    path.write_bytes(b"<users>\n  <user>\n    <user_group>01</usergroup>\n  </user>\n</users>\n")
    message = error_of(path)
    assert message.startswith(f"{path}:3:")
    assert re.match(rf"{re.escape(str(path))}:3:\d+: Opening and ending tag mismatch", message)


def test_malformed_xml_inside_zip_names_member_line_and_column(tmp_path: Path) -> None:
    """Inside a zip, the message names the zip, the member, line and column."""
    path = write_zip(
        tmp_path / "p.zip", {"good.xml": users_document(["01"]), "b.xml": b"<users>\n<user>"}
    )
    assert re.match(rf"{re.escape(str(path))}\[b\.xml\]:2:\d+: Premature end", error_of(path))


def test_truncated_xml(tmp_path: Path) -> None:
    """XML cut mid-record fails with the position where it stops."""
    path = tmp_path / "load.xml"
    path.write_bytes(users_document(["01", "02"])[:300])
    assert re.match(rf"{re.escape(str(path))}:\d+:\d+: ", error_of(path))


def test_empty_file(tmp_path: Path) -> None:
    """An empty file is not mistaken for an empty load."""
    path = tmp_path / "load.xml"
    path.write_bytes(b"")
    assert error_of(path).startswith(f"{path}: ")


@pytest.mark.parametrize("root", ["collection", "html", "web_service_result"])
def test_wrong_root_element(tmp_path: Path, root: str) -> None:
    """A document whose root is not users/userRecords/user is refused, without its name."""
    path = tmp_path / "load.xml"
    path.write_bytes(
        f"<?xml version='1.0'?>\n<{root}><user><user_group>01</user_group></user></{root}>".encode()
    )
    message = error_of(path)
    assert message.startswith(f"{path}:2: the root element is not <users>")
    assert root not in message.removeprefix(str(path))


def test_wrong_root_without_users(tmp_path: Path) -> None:
    """A wrong root with no <user> inside is refused too (checked at the end)."""
    path = tmp_path / "load.xml"
    path.write_bytes(b"<records><record/></records>")
    message = error_of(path)
    assert "the root element is not <users>" in message
    assert "records" not in message.removeprefix(str(path))


def test_billion_laughs_fails_fast(tmp_path: Path) -> None:
    """An entity-expansion bomb is refused for its declarations, before anything expands."""
    entities = '<!ENTITY a0 "lollollollollollollollollollol">' + "".join(
        f'<!ENTITY a{i} "{f"&a{i - 1};" * 10}">' for i in range(1, 12)
    )
    path = tmp_path / "bomb.xml"
    path.write_text(
        f'<?xml version="1.0"?>\n<!DOCTYPE users [{entities}]>\n'
        "<users><user><user_group>&a11;</user_group></user></users>\n"
    )
    message = error_of(path)
    # refused for declaring entities (or a DOCTYPE at all), so the 10**11 "lol"s never exist;
    # no clock: these machines are shared, and the message says why it stopped
    assert "entit" in message.lower() or "DOCTYPE" in message


@pytest.mark.parametrize(
    "doctype",
    [
        "<!DOCTYPE users>",
        '<!DOCTYPE users [<!ENTITY g "01">]>',
        '<!DOCTYPE users SYSTEM "http://127.0.0.1:9/users.dtd">',
        '<!DOCTYPE users SYSTEM "file:///etc/passwd">',
    ],
)
def test_any_doctype_is_refused(tmp_path: Path, doctype: str) -> None:
    """Any DOCTYPE is refused, even a harmless one, and nothing is fetched."""
    path = tmp_path / "load.xml"
    path.write_text(f"{doctype}\n<users><user><user_group>01</user_group></user></users>")
    assert "refused: the file has a DOCTYPE declaration" in error_of(path)


def test_undefined_entity_is_located(tmp_path: Path) -> None:
    """An entity reference without a DTD is an error with its line and column."""
    path = tmp_path / "load.xml"
    path.write_bytes(b"<users>\n<user><user_group>&grp;</user_group></user></users>")
    message = error_of(path)
    assert re.match(rf"{re.escape(str(path))}:2:\d+: Entity \(name withheld\) not defined", message)


def huge_text_document(size: int) -> bytes:
    return (
        b"<users>\n<user><user_group>01</user_group>\n<user_note>"
        + b"x" * size
        + b"</user_note></user></users>"
    )


def test_huge_single_text_node_is_refused(tmp_path: Path) -> None:
    """A text node over 10 MB fails with the record guard's message, naming file and line."""
    path = tmp_path / "huge.xml"
    path.write_bytes(huge_text_document(11_000_000))
    message = error_of(path)
    assert re.match(
        rf"{re.escape(str(path))}:\d+: after 0 user record\(s\), more than 2 MB", message
    )


def test_libxml2_text_limit_holds_behind_the_guard(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With our record guard lifted, libxml2's own 10 MB text limit still refuses it."""
    monkeypatch.setattr("reconciler.patron_loads.reading.MAX_RECORD_BYTES", 64 * 2**20)
    path = tmp_path / "huge.xml"
    path.write_bytes(huge_text_document(11_000_000))
    message = error_of(path)
    assert message.startswith(f"{path}:3:")
    assert "Text node too long" in message


def test_element_of_many_small_children_is_refused(tmp_path: Path) -> None:
    """A <user> of millions of tiny elements (no text limit applies) is refused, not built."""
    path = tmp_path / "wide.xml"
    with path.open("wb") as out:
        out.write(b"<users><user><user_group>01</user_group></user>\n<user>")
        out.write(b"<n/>\n" * 1_000_000)
        out.write(b"</user></users>")
    message = error_of(path)
    assert re.match(rf"{re.escape(str(path))}:\d+: after 1 user record\(s\)", message)


def test_huge_element_inside_zip(tmp_path: Path) -> None:
    """The same limit holds for a zip member, which is named in the message."""
    path = write_zip(tmp_path / "p.zip", {"big.xml": huge_text_document(11_000_000)})
    assert error_of(path).startswith(f"{path}[big.xml]:3: after 0 user record(s)")


def test_records_just_under_the_limit_are_fine(tmp_path: Path) -> None:
    """Large but plausible records (a 1 MB note) are counted normally."""
    path = tmp_path / "big-notes.xml"
    path.write_bytes(huge_text_document(1_000_000).replace(b"</users>", b"<user/></users>"))
    assert count_file(path).users == 2


def test_not_xml_at_all(tmp_path: Path) -> None:
    """A CSV handed over by mistake fails at line 1 with a reason."""
    path = tmp_path / "load.csv"
    path.write_text("primary_id,user_group\nX,01\n")
    assert re.match(rf"{re.escape(str(path))}:1:\d+: ", error_of(path))


def test_zip_error_is_not_a_zipfile_exception(tmp_path: Path) -> None:
    """Callers see only our error type; zipfile's exception is kept as the cause."""
    path = tmp_path / "p.zip"
    path.write_bytes(b"PK\x03\x04broken")
    with pytest.raises(PatronLoadFileError) as caught:
        count_file(path)
    assert isinstance(caught.value.__cause__, zipfile.BadZipFile)


def test_encrypted_zip_member(tmp_path: Path) -> None:
    """A password-protected member is named and said to be unreadable."""
    path = write_zip(tmp_path / "p.zip", {"a.xml": users_document(["01"])}, compression=0)
    data = bytearray(path.read_bytes())
    data[6] |= 1  # "encrypted" flag in the local header...
    data[data.index(b"PK\x01\x02") + 8] |= 1  # ...and in the central directory
    path.write_bytes(bytes(data))
    message = error_of(path)
    assert message.startswith(f"{path}[a.xml]: cannot read the zip member")
    assert "encrypted" in message
