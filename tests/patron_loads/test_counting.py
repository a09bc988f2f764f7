"""count_file: users per group from every shape of SIS file Alma receives, and the load date."""

from __future__ import annotations

import os
import tempfile
import zipfile
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.patron_loads import count_file, date_in_name

from .helpers import ALMA_NS, MISSING, SHARED_SIS, users_document, write_zip


def test_mit_student_sample_counts_empty_group_under_no_group() -> None:
    """MIT's real <userRecords> student file: one user in 32, one with an empty <user_group />."""
    result = count_file(SHARED_SIS / "mit_student_patrons_userRecords.xml")
    assert result.users == 2
    assert result.users_by_group == (("", 1), ("32", 1))
    assert result.record_types == ("PUBLIC",)
    assert result.file_name == f"{result.file_date}-{result.sha256[:16]}.xml"
    assert result.size_bytes == 6807
    assert result.sha256.startswith("d51aa5fa1253")


def test_mit_staff_sample_counts_group_with_desc_and_empty_group() -> None:
    """MIT's staff file: `<user_group desc="…">27</user_group>` and an empty one with desc=""."""
    result = count_file(SHARED_SIS / "mit_staff_patrons_userRecords.xml")
    assert result.users_by_group == (("", 1), ("27", 1))


def test_mit_template_is_a_bare_user() -> None:
    """MIT's per-user template has a bare <user> root: one user, no group."""
    result = count_file(SHARED_SIS / "mit_student_user_template.xml")
    assert (result.users, result.users_by_group) == (1, (("", 1),))


@pytest.mark.parametrize("root", ["users", "userRecords"])
@pytest.mark.parametrize("namespace", [None, ALMA_NS])
def test_list_roots_with_and_without_namespace(tmp_path: Path, root: str, namespace: str) -> None:
    """<users> and <userRecords>, plain or with Alma's default namespace, count the same."""
    path = tmp_path / "load.xml"
    path.write_bytes(users_document(["01", "02", "01", ""], root=root, namespace=namespace))
    result = count_file(path)
    assert result.users_by_group == (("", 1), ("01", 2), ("02", 1))


@pytest.mark.parametrize("namespace", [None, ALMA_NS])
def test_bare_user_root(tmp_path: Path, namespace: str) -> None:
    """A file holding a single <user> element counts as one user."""
    path = tmp_path / "one.xml"
    path.write_bytes(users_document(["GUEST"], root="user", namespace=namespace))
    assert count_file(path).users_by_group == (("GUEST", 1),)


def test_empty_missing_and_padded_groups(tmp_path: Path) -> None:
    """Empty and missing <user_group> count as ""; whitespace around a code is ignored."""
    path = tmp_path / "load.xml"
    document = users_document(["", MISSING, "15"]).replace(b">15<", b">\n   15\n  <")
    path.write_bytes(document)
    result = count_file(path)
    assert result.users_by_group == (("", 2), ("15", 1))
    assert result.users == 3


def test_record_types_are_distinct_and_sorted(tmp_path: Path) -> None:
    """record_types lists each record type once, sorted; a missing one adds nothing."""
    path = tmp_path / "load.xml"
    path.write_bytes(
        users_document(["01", "02", "03", "04"], record_types=["STAFF", "PUBLIC", None, "STAFF"])
    )
    assert count_file(path).record_types == ("PUBLIC", "STAFF")


def test_empty_user_list_counts_zero(tmp_path: Path) -> None:
    """A <users/> file with no records is valid and counts nobody."""
    path = tmp_path / "load.xml"
    path.write_bytes(b"<users/>")
    result = count_file(path)
    assert (result.users, result.users_by_group, result.record_types) == (0, (), ())


def test_nested_user_element_is_not_a_record(tmp_path: Path) -> None:
    """Only children of the root are records; a <user> deeper down is not counted."""
    path = tmp_path / "load.xml"
    path.write_bytes(
        b"<users><user><user_group>01</user_group><proxy><user><user_group>XX</user_group>"
        b"</user></proxy></user></users>"
    )
    assert count_file(path).users_by_group == (("01", 1),)


def test_zip_with_several_members_sums_them(tmp_path: Path) -> None:
    """Every .xml member of a zip is counted; other members and macOS debris are skipped."""
    path = write_zip(
        tmp_path / "patrons.zip",
        {
            "part1.xml": users_document(["01", "02"]),
            "sub/part2.XML": users_document(["01", ""], root="userRecords", namespace=ALMA_NS),
            "readme.txt": b"not xml at all <",
            "__MACOSX/._part1.xml": b"\x00\x05\x16\x07 resource fork",
        },
    )
    result = count_file(path)
    assert result.users_by_group == (("", 1), ("01", 2), ("02", 1))
    parts = (
        users_document(["01", "02"]),
        users_document(["01", ""], root="userRecords", namespace=ALMA_NS),
    )
    assert result.size_bytes == sum(len(part) for part in parts)  # the XML, not the zip


def test_zip_is_recognised_by_content_whatever_its_name(tmp_path: Path) -> None:
    """Alma renames picked-up files to .handled: a zip is known by its magic bytes."""
    path = write_zip(tmp_path / "patrons.xml.handled", {"a.xml": users_document(["01"])})
    assert count_file(path).users == 1


def test_sha256_identifies_the_file_bytes(tmp_path: Path) -> None:
    """Same bytes give the same sha256 under another name; one byte more changes it."""
    data = users_document(["01"])
    first, second, third = tmp_path / "a.xml", tmp_path / "b.xml", tmp_path / "c.xml"
    first.write_bytes(data)
    second.write_bytes(data)
    third.write_bytes(data + b"\n")
    assert count_file(first).sha256 == count_file(second).sha256 != count_file(third).sha256


def test_file_name_is_the_date_and_hash_only(tmp_path: Path) -> None:
    """Neither folders nor the delivered name reach the history: only date and hash."""
    folder = tmp_path / "secret-share" / "drop"
    folder.mkdir(parents=True)
    (folder / "load_20250301.xml").write_bytes(users_document(["01"]))
    counted = count_file(folder / "load_20250301.xml")
    assert counted.file_name == f"2025-03-01-{counted.sha256[:16]}.xml"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("patrons_20250301.xml.zip", date(2025, 3, 1)),
        ("patrons-2025-03-01.xml", date(2025, 3, 1)),
        ("feed_20250301T0600.xml", date(2025, 3, 1)),
        ("feed_20250301123000.xml", date(2025, 3, 1)),
        ("feed_20251399_20250302.xml", date(2025, 3, 2)),
        ("patrons.xml", None),
        ("batch_120250301.xml", None),
    ],
)
def test_date_in_name(name: str, expected: date | None) -> None:
    """Dates are read from YYYYMMDD / YYYY-MM-DD in names; impossible dates are skipped."""
    assert date_in_name(name) == expected


def test_file_date_precedence(tmp_path: Path) -> None:
    """Explicit date beats the name, the name beats zip member times, those beat mtime."""
    data = {"a.xml": users_document(["01"])}
    named = write_zip(tmp_path / "patrons_20250301.zip", data, date_time=(2024, 5, 6, 0, 0, 0))
    unnamed = write_zip(tmp_path / "patrons.zip", data, date_time=(2024, 5, 6, 0, 0, 0))
    undated = write_zip(tmp_path / "undated.zip", data, date_time=(1980, 1, 1, 0, 0, 0))
    plain = tmp_path / "patrons.xml"
    plain.write_bytes(data["a.xml"])
    stamp = datetime(2023, 7, 8, 12, 0, tzinfo=UTC).timestamp()
    os.utime(plain, (stamp, stamp))
    os.utime(undated, (stamp, stamp))
    assert count_file(named, file_date=date(2020, 1, 2)).file_date == date(2020, 1, 2)
    assert count_file(named).file_date == date(2025, 3, 1)
    assert count_file(unnamed).file_date == date(2024, 5, 6)
    assert count_file(undated).file_date == date(2023, 7, 8)  # 1980 is "no time" in zips
    assert count_file(plain).file_date == date(2023, 7, 8)


GROUP_CODES = st.one_of(
    st.none(),
    st.just(""),
    st.text(alphabet="ABCGSTU0123456789", min_size=1, max_size=5),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    groups=st.lists(GROUP_CODES, max_size=40),
    root=st.sampled_from(["users", "userRecords"]),
    namespace=st.sampled_from([None, ALMA_NS]),
    zipped=st.booleans(),
)
def test_generated_user_lists_are_counted_exactly(
    groups: list[str | None], root: str, namespace: str | None, zipped: bool
) -> None:
    """Any list of users with random groups is counted exactly, as XML or zipped."""
    expected = Counter(group or "" for group in groups)
    document = users_document(groups, root=root, namespace=namespace)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "load.xml"
        if zipped:
            path = write_zip(Path(folder) / "load.zip", {"load.xml": document})
        else:
            path.write_bytes(document)
        result = count_file(path)
    assert result.users == len(groups)
    assert dict(result.users_by_group) == dict(expected)
    assert [code for code, _ in result.users_by_group] == sorted(expected)


def test_zip_member_is_streamed_not_extracted(tmp_path: Path) -> None:
    """Counting a zip writes nothing next to it (members are read as streams)."""
    path = write_zip(tmp_path / "p.zip", {"a.xml": users_document(["01"] * 50)})
    before = sorted(tmp_path.iterdir())
    assert count_file(path).users == 50
    assert sorted(tmp_path.iterdir()) == before
    assert zipfile.is_zipfile(path)


def test_tree_never_holds_more_than_the_current_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Constant memory: when a record is counted, the root holds only it (earlier ones deleted)."""
    from reconciler.patron_loads import reading  # noqa: PLC0415 - patched below

    seen: list[int] = []
    original = reading._Tally.add

    def spy(self: reading._Tally, user: Any) -> None:
        # later siblings may already exist (lxml parses a read-ahead chunk); earlier ones must not
        before = list(user.itersiblings(preceding=True))
        seen.append(len(before) + sum(len(element) for element in before))
        original(self, user)

    monkeypatch.setattr(reading._Tally, "add", spy)
    path = tmp_path / "load.xml"
    path.write_bytes(users_document(["01"] * 500).replace(b"</user>", b"</user><!-- x --><junk/>"))
    assert count_file(path).users == 500
    # the previous record, already cleared (no children), and the <junk/> between them
    assert max(seen) <= 2
