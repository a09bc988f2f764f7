"""The history file: deterministic JSON, schema round trip, idempotent and all-or-nothing ingest."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import jsonschema
import pytest

from reconciler.errors import PatronLoadFileError
from reconciler.model.history import PatronLoadFile, PatronLoadHistory
from reconciler.patron_loads import (
    SCHEMA_PATH,
    history_to_json,
    ingest,
    load_history,
    render_history,
    save_history,
)

from .helpers import users_document, write_zip

HISTORY = "patron-load-history.json"


def sample_file(name: str = "p_20250301.zip", day: int = 1, sha: str = "a") -> PatronLoadFile:
    return PatronLoadFile(
        file_name=name,
        sha256=sha * 64,
        file_date=date(2025, 3, day),
        size_bytes=1234,
        record_types=("PUBLIC", "STAFF"),
        users=5,
        users_by_group=(("", 1), ("01", 3), ("15", 1)),
    )


def loads(folder: Path) -> list[Path]:
    first = folder / "patrons_20250301.xml.zip"
    write_zip(first, {"a.xml": users_document(["01", "01", "15", ""])})
    second = folder / "patrons_20250308.xml"
    second.write_bytes(users_document(["01", "GUEST"], root="userRecords"))
    return [first, second]


def test_ingest_writes_the_documented_format(tmp_path: Path) -> None:
    """A first ingest writes format_version, the slug and per-file aggregates only."""
    history_path = tmp_path / HISTORY
    result = ingest(history_path, "ucf", loads(tmp_path))
    assert (len(result.added), len(result.unchanged), result.written) == (2, 0, True)
    document = json.loads(history_path.read_text())
    assert document["format_version"] == 1
    assert document["institution"] == "ucf"
    first = document["files"][0]
    assert set(first) == {
        "file_name",
        "sha256",
        "file_date",
        "size_bytes",
        "record_types",
        "users",
        "users_by_group",
    }
    assert first["file_name"] == "patrons_20250301.xml.zip"
    assert first["file_date"] == "2025-03-01"
    assert first["users_by_group"] == {"": 1, "01": 2, "15": 1}
    assert document["files"][1]["users_by_group"] == {"01": 1, "GUEST": 1}


def test_json_is_deterministic(tmp_path: Path) -> None:
    """Sorted keys, two-space indent, final newline; file order independent of input order."""
    one = PatronLoadHistory("ucf", (sample_file(day=2, sha="b"), sample_file(day=1)))
    two = PatronLoadHistory("ucf", (sample_file(day=1), sample_file(day=2, sha="b")))
    text = render_history(one)
    assert text == render_history(two)
    assert text.endswith("}\n")
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True) + "\n"


def test_reingest_is_byte_identical_and_does_not_write(tmp_path: Path) -> None:
    """Ingesting the same files again adds nothing and leaves the file untouched."""
    history_path = tmp_path / HISTORY
    files = loads(tmp_path)
    ingest(history_path, "ucf", files)
    before = history_path.read_bytes()
    stamp = history_path.stat().st_mtime_ns
    result = ingest(history_path, "ucf", [*reversed(files), files[0]])
    assert (len(result.added), len(result.unchanged), result.written) == (0, 3, False)
    assert history_path.read_bytes() == before
    assert history_path.stat().st_mtime_ns == stamp


def test_same_bytes_under_another_name_or_date_are_unchanged(tmp_path: Path) -> None:
    """Identity is the sha256: a renamed copy or a different --date changes nothing."""
    history_path = tmp_path / HISTORY
    files = loads(tmp_path)
    ingest(history_path, "ucf", files)
    copy = tmp_path / "copy_20240101.xml"
    copy.write_bytes(files[1].read_bytes())
    result = ingest(history_path, "ucf", [copy], file_date=date(2020, 1, 1))
    assert (result.added, result.written) == ((), False)


def test_new_file_is_added_in_date_order(tmp_path: Path) -> None:
    """A later ingest adds only the new file and keeps files sorted by date then name."""
    history_path = tmp_path / HISTORY
    ingest(history_path, "ucf", loads(tmp_path)[1:])
    earlier = write_zip(tmp_path / "patrons_20250215.zip", {"a.xml": users_document(["02"])})
    result = ingest(history_path, "ucf", [earlier])
    assert [item.file_name for item in result.added] == ["patrons_20250215.zip"]
    dates = [entry["file_date"] for entry in json.loads(history_path.read_text())["files"]]
    assert dates == ["2025-02-15", "2025-03-08"]


def test_error_in_any_file_writes_nothing(tmp_path: Path) -> None:
    """One bad file among good ones: the history is not created, and no temp file is left."""
    history_path = tmp_path / "inst" / HISTORY
    history_path.parent.mkdir()
    bad = tmp_path / "bad.xml"
    bad.write_bytes(b"<users><user>")
    with pytest.raises(PatronLoadFileError, match=r"bad\.xml"):
        ingest(history_path, "ucf", [*loads(tmp_path), bad])
    assert list(history_path.parent.iterdir()) == []


def test_error_leaves_an_existing_history_untouched(tmp_path: Path) -> None:
    """A failed ingest leaves the previous history byte for byte."""
    history_path = tmp_path / HISTORY
    files = loads(tmp_path)
    ingest(history_path, "ucf", files[:1])
    before = history_path.read_bytes()
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"nope")
    with pytest.raises(PatronLoadFileError):
        ingest(history_path, "ucf", [files[1], bad])
    assert history_path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_failed_write_removes_its_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the rename fails, the temp file is removed and the error names the history."""
    history_path = tmp_path / HISTORY

    def broken_replace(*_: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("reconciler.files.os.replace", broken_replace)
    with pytest.raises(PatronLoadFileError, match="cannot write the history"):
        save_history(history_path, PatronLoadHistory("ucf", (sample_file(),)))
    assert list(tmp_path.iterdir()) == []


def test_schema_round_trip(tmp_path: Path) -> None:
    """What we write validates against the schema and reads back to an equal history."""
    history = PatronLoadHistory("ucf", (sample_file(), sample_file("q.xml", 9, "c")))
    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(history_to_json(history))
    path = tmp_path / HISTORY
    save_history(path, history)
    assert load_history(path) == history


def test_schema_describes_every_property() -> None:
    """Every property in the schema has a description; every record object is closed."""
    schema = json.loads(SCHEMA_PATH.read_text())

    def walk(node: object, where: str) -> None:
        if isinstance(node, dict):
            for name, sub in node.get("properties", {}).items():
                assert "description" in sub, f"{where}.{name} has no description"
            if "properties" in node:
                assert node.get("additionalProperties") is False, f"{where} is open"
            for key, sub in node.items():
                walk(sub, f"{where}.{key}")
        elif isinstance(node, list):
            for index, sub in enumerate(node):
                walk(sub, f"{where}[{index}]")

    walk(schema, "$")


def test_missing_history_loads_as_none(tmp_path: Path) -> None:
    """No history file yet is not an error: there is simply nothing ingested."""
    assert load_history(tmp_path / HISTORY) is None


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d.pop("format_version"), "(top level): 'format_version' is a required"),
        (lambda d: d.update(format_version=2), "format_version: this file has version 2"),
        (lambda d: d.update(format_version="1"), "format_version: 1 was expected"),
        (lambda d: d["files"][0].update(users="5"), "files[0].users: '5' is not of type"),
        (lambda d: d["files"][0].update(extra=1), "files[0]: Additional properties"),
        (lambda d: d["files"][0].update(users=6), "files[0]: users is 6 but users_by_group adds"),
        (lambda d: d["files"][0].update(file_date="2025-02-30"), "files[0]: day is out of range"),
        (lambda d: d["files"][0]["users_by_group"].update({"01": 0}), "users_by_group.01: 0 is"),
        (lambda d: d["files"].append(dict(d["files"][0])), "files: each file (sha256)"),
    ],
)
def test_corrupted_history_names_file_and_key(
    tmp_path: Path, mutate: object, expected: str
) -> None:
    """A hand-edited or damaged history fails with the file and the key at fault."""
    path = tmp_path / HISTORY
    document = history_to_json(PatronLoadHistory("ucf", (sample_file(),)))
    assert callable(mutate)
    mutate(document)
    path.write_text(json.dumps(document))
    with pytest.raises(PatronLoadFileError) as caught:
        load_history(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert expected in str(caught.value)


def test_invalid_json_gives_line_and_column(tmp_path: Path) -> None:
    """A history that is not JSON is reported with line and column."""
    path = tmp_path / HISTORY
    path.write_text('{\n  "format_version": 1,\n  oops\n}\n')
    with pytest.raises(PatronLoadFileError, match=r":3:3: not valid JSON"):
        load_history(path)


def test_history_of_another_institution_is_refused(tmp_path: Path) -> None:
    """Ingesting into a history written for another slug is an error, and nothing changes."""
    path = tmp_path / HISTORY
    save_history(path, PatronLoadHistory("fsu", (sample_file(),)))
    before = path.read_bytes()
    with pytest.raises(PatronLoadFileError, match="institution: the history belongs to 'fsu'"):
        ingest(path, "ucf", loads(tmp_path))
    assert path.read_bytes() == before


def test_several_schema_errors_report_the_first_and_a_count(tmp_path: Path) -> None:
    """Errors at indexes and keys together are ordered, the first shown, the rest counted."""
    path = tmp_path / HISTORY
    document = history_to_json(PatronLoadHistory("ucf", (sample_file(),)))
    document["institution"] = "Not A Slug"
    document["files"][0]["record_types"] = [7]
    document["files"][0]["users"] = -1
    path.write_text(json.dumps(document))
    with pytest.raises(
        PatronLoadFileError, match=r"files\[0\]\.record_types\[0\]: 7 is not of type"
    ):
        load_history(path)
    with pytest.raises(PatronLoadFileError, match=r"\(and 2 more\)$"):
        load_history(path)
