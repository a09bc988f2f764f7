"""`patron-loads ingest` on hostile input: no writing outside institutions/, nothing personal
kept (values, file names, root tags), readable permissions, bounded zips, no lost loads."""

from __future__ import annotations

import json
import os
import shutil
import stat
import threading
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reconciler.cli import app
from reconciler.errors import PatronLoadFileError
from reconciler.patron_loads import count_file, ingest
from reconciler.patron_loads.reading import ReadLimits

from .conftest import VALID

runner = CliRunner()
EMAIL = "zelda.quuxington@canary.example"
NAME = "Quuxington, Zelda"


def _users(*groups: str, root: str = "users") -> bytes:
    records = "".join(
        f"<user><record_type>PUBLIC</record_type><primary_id>P{i}</primary_id>"
        f"<user_group>{group}</user_group></user>"
        for i, group in enumerate(groups)
    )
    return f'<?xml version="1.0"?>\n<{root}>{records}</{root}>\n'.encode()


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder holding institutions/ (demo, other), as `ingest` expects."""
    root = tmp_path / "repo"
    shutil.copytree(VALID, root / "institutions")
    monkeypatch.chdir(root)
    monkeypatch.delenv("ALMA_GROUPS_INSTITUTIONS", raising=False)
    return root


def _ingest(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["patron-loads", "ingest", *args])
    return result.exit_code, result.output


@pytest.mark.parametrize("slug", ["../../x", "../outside", "/etc", "demo/../other", "nope"])
def test_the_slug_must_name_an_existing_institution(repo: Path, tmp_path: Path, slug: str) -> None:
    """A path-like or unknown slug is refused, and nothing is written anywhere."""
    load = tmp_path / "load.xml"
    load.write_bytes(_users("01"))
    before = sorted(p for p in tmp_path.rglob("*"))
    code, output = _ingest(slug, str(load))
    assert code == 1
    assert "unknown institution" in output
    assert sorted(p for p in tmp_path.rglob("*")) == before


def test_values_that_are_not_codes_are_counted_never_stored(repo: Path, tmp_path: Path) -> None:
    """A name and an email in <user_group> are "unrecognised values: 2", not in the history."""
    load = tmp_path / "load_20250301.xml"
    load.write_bytes(_users("01", NAME, EMAIL, "STAFF"))
    code, output = _ingest("demo", str(load))
    assert code == 0, output
    assert "unrecognised values: 2" in output
    text = (repo / "institutions" / "demo" / "patron-load-history.json").read_text()
    assert "Quuxington" not in text
    assert "canary.example" not in text
    entry = json.loads(text)["files"][0]
    assert entry["users_by_group"] == {"01": 1, "STAFF": 1}
    assert (entry["users"], entry["unrecognised_values"]) == (4, 2)


def test_the_delivered_file_name_is_never_kept(repo: Path, tmp_path: Path) -> None:
    """A file named after a person keeps only its date and hash, in the history and the output."""
    load = tmp_path / f"{EMAIL}_20250301.xml"
    load.write_bytes(_users("01"))
    code, output = _ingest("demo", str(load), "--date", "2025-03-02")
    assert code == 0, output
    text = (repo / "institutions" / "demo" / "patron-load-history.json").read_text()
    entry = json.loads(text)["files"][0]
    assert entry["file_name"] == f"2025-03-02-{entry['sha256'][:16]}.xml"
    assert "quuxington" not in text
    assert "quuxington" not in output.split("wrote")[0]  # the summary names the history only


def test_the_root_tag_is_never_echoed(tmp_path: Path) -> None:
    """A document rooted in somebody's name is refused without repeating that name."""
    load = tmp_path / "load.xml"
    load.write_bytes(
        b"<Zelda.Quuxington><user><user_group>01</user_group></user></Zelda.Quuxington>"
    )
    with pytest.raises(PatronLoadFileError) as caught:
        count_file(load)
    assert "Quuxington" not in str(caught.value).removeprefix(str(load))


def test_the_history_is_written_0644_whatever_the_umask(repo: Path, tmp_path: Path) -> None:
    """The committed file is world-readable like the rest of the repository, not 0600."""
    load = tmp_path / "load.xml"
    load.write_bytes(_users("01"))
    old = os.umask(0o077)
    try:
        code, output = _ingest("demo", str(load))
    finally:
        os.umask(old)
    assert code == 0, output
    mode = (repo / "institutions" / "demo" / "patron-load-history.json").stat().st_mode
    assert stat.S_IMODE(mode) == 0o644


def test_a_zip_and_its_unzipped_xml_are_one_load(tmp_path: Path) -> None:
    """The hash is the XML's: ingesting the zip, then the same XML unzipped, adds nothing."""
    xml = _users("01", "02")
    plain = tmp_path / "load_20250301.xml"
    plain.write_bytes(xml)
    zipped = tmp_path / "load_20250301.zip"
    with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("load_20250301.xml", xml)
    history = tmp_path / "patron-load-history.json"
    first = ingest(history, "demo", [zipped])
    second = ingest(history, "demo", [plain])
    assert len(first.added) == 1
    assert (second.added, len(second.unchanged)) == ((), 1)
    assert first.added[0].sha256 == count_file(plain).sha256


def test_a_zip_bomb_is_refused_after_a_bounded_read(tmp_path: Path) -> None:
    """A member that inflates past the ratio cap (10 MB of records in a small zip) is refused."""
    bomb = tmp_path / "load.zip"
    record = b"<user><user_group>01</user_group>" + b" " * 100_000 + b"</user>"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr(
            "load.xml", b"<users>" + record * (40 * 2**20 // len(record)) + b"</users>"
        )
    assert bomb.stat().st_size < 2**20
    with pytest.raises(PatronLoadFileError, match="zip bomb"):
        count_file(bomb)


def test_an_ordinary_zip_is_within_the_ratio(tmp_path: Path) -> None:
    """A realistic patron zip (a few hundred records) passes the default ratio cap."""
    load = tmp_path / "load.zip"
    with zipfile.ZipFile(load, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("load.xml", _users(*(["01", "GR", "FAC"] * 300)))
    assert count_file(load).users == 900


def test_reading_has_a_deadline(tmp_path: Path) -> None:
    """A file that takes longer than max_seconds is refused (a clock that runs fast here)."""
    ticks = iter(range(0, 10_000, 100))
    limits = ReadLimits(max_seconds=150, clock=lambda: float(next(ticks)))
    load = tmp_path / "load.xml"
    load.write_bytes(_users(*(["01"] * 20_000)))
    with pytest.raises(PatronLoadFileError, match="took longer than 150 s"):
        count_file(load, limits=limits)


def test_concurrent_ingests_into_one_institution_all_land(tmp_path: Path) -> None:
    """Eight ingests at once, each with its own file: the history ends with all eight."""
    history = tmp_path / "demo" / "patron-load-history.json"
    history.parent.mkdir()
    loads = []
    for index in range(8):
        load = tmp_path / f"load_202503{index + 1:02d}.xml"
        load.write_bytes(_users(*(["01"] * (index + 1))))
        loads.append(load)
    start = threading.Barrier(len(loads))
    errors: list[BaseException] = []

    def one(load: Path) -> None:
        start.wait()
        try:
            ingest(history, "demo", [load])
        except BaseException as error:  # reported by the assertion below
            errors.append(error)

    workers = [threading.Thread(target=one, args=(load,)) for load in loads]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert errors == []
    files = json.loads(history.read_text())["files"]
    assert sorted(entry["users"] for entry in files) == list(range(1, 9))
