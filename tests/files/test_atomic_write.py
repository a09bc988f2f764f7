"""atomic_write: a file is replaced whole or not at all, with a sensible mode."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.files import PRIVATE_FILE_MODE, atomic_write


def test_new_file_is_readable_by_all(tmp_path: Path) -> None:
    """A new file gets mode 0644 (not the temp file's 0600) and exactly the text."""
    path = tmp_path / "plan.json"
    atomic_write(path, "{}\n")
    assert path.read_text(encoding="utf-8") == "{}\n"
    assert path.stat().st_mode & 0o777 == 0o644


def test_private_file_and_replaced_file_keep_their_mode(tmp_path: Path) -> None:
    """A file asked to be private is 0600; replacing a file keeps whatever mode it had."""
    private = tmp_path / "affected.csv"
    atomic_write(private, "a\n", new_file_mode=PRIVATE_FILE_MODE)
    assert private.stat().st_mode & 0o777 == 0o600
    shared = tmp_path / "user-groups.yaml"
    shared.write_text("old\n", encoding="utf-8")
    shared.chmod(0o664)
    atomic_write(shared, "new\n")
    assert shared.read_text(encoding="utf-8") == "new\n"
    assert shared.stat().st_mode & 0o777 == 0o664


def test_failed_write_leaves_the_old_file_and_no_temp_file(tmp_path: Path) -> None:
    """A write that fails halfway (text that cannot be encoded) changes nothing."""
    path = tmp_path / "history.json"
    path.write_text("old\n", encoding="utf-8")
    with pytest.raises(UnicodeEncodeError):
        atomic_write(path, "new \ud800 text\n")
    assert path.read_text(encoding="utf-8") == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["history.json"]


def test_missing_folder_is_an_os_error(tmp_path: Path) -> None:
    """Writing into a folder that does not exist raises OSError (the CLI reports it)."""
    with pytest.raises(FileNotFoundError) as error:
        atomic_write(tmp_path / "missing" / "plan.json", "{}\n")
    assert error.value.filename == str(tmp_path / "missing" / "plan.json")
