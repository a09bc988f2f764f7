"""`validate` on a tree a fork's pull request may have crafted: links out, special files,
oversized files and files that are not YAML are refused by name, and their text never printed."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reconciler.cli import app
from reconciler.desired import validate_paths
from reconciler.desired.yaml_source import MAX_DOCUMENT_BYTES

from .conftest import VALID

CANARY = "CANARY-CANARY-5e1f0d"
runner = CliRunner()


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository folder with institutions/demo and institutions/other as the working folder."""
    repo = tmp_path / "repo"
    shutil.copytree(VALID, repo / "institutions")
    monkeypatch.chdir(repo)
    return repo / "institutions"


def _validate() -> tuple[int, str]:
    result = runner.invoke(app, ["validate"])
    return result.exit_code, result.output


def test_a_symlink_out_of_the_repository_is_refused_unread(tree: Path, tmp_path: Path) -> None:
    """user-groups.yaml linked to a file outside: one refusal naming the link, no content."""
    outside = tmp_path / "secret.txt"
    outside.write_text(f"{CANARY}\nroot:x:0:0:root:/root:/bin/bash\n", encoding="utf-8")
    target = tree / "demo" / "user-groups.yaml"
    target.unlink()
    target.symlink_to(outside)
    code, output = _validate()
    assert code == 1
    assert "institutions/demo/user-groups.yaml" in output
    assert "outside the institutions folder" in output
    assert CANARY not in output
    assert "secret.txt" not in output  # not even the target's name


def test_a_symlinked_institution_folder_out_of_the_tree_is_refused(
    tree: Path, tmp_path: Path
) -> None:
    """A whole institution folder linked elsewhere: its files are refused, not read."""
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(tree / "other", elsewhere)
    (elsewhere / "user-groups.yaml").write_text(f"{CANARY}\n", encoding="utf-8")
    shutil.rmtree(tree / "other")
    (tree / "other").symlink_to(elsewhere, target_is_directory=True)
    code, output = _validate()
    assert code == 1
    assert "outside the institutions folder" in output
    assert CANARY not in output


def test_a_symlink_inside_the_tree_is_still_read(tree: Path) -> None:
    """A link that stays inside the institutions folder is an ordinary file."""
    copy = tree / "demo" / "groups-copy.txt"
    shutil.copy(tree / "demo" / "user-groups.yaml", copy)
    (tree / "demo" / "user-groups.yaml").unlink()
    (tree / "demo" / "user-groups.yaml").symlink_to(copy)
    report = validate_paths([tree])
    assert report.ok, report.problems


def test_a_link_to_dev_zero_is_refused_without_reading(tree: Path) -> None:
    """/dev/zero would be read forever (MemoryError): it is refused as a special file."""
    target = tree / "demo" / "institution.yaml"
    target.unlink()
    target.symlink_to("/dev/zero")
    report = validate_paths([tree])
    messages = [p.message for p in report.problems]
    assert any("outside the institutions folder" in m for m in messages), messages


def test_a_special_file_inside_the_tree_is_refused(tree: Path) -> None:
    """A FIFO inside the tree is refused as not a regular file, and never blocks the run."""
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this platform")
    target = tree / "demo" / "user-groups.yaml"
    target.unlink()
    os.mkfifo(target)
    outcome: list[object] = []
    worker = threading.Thread(target=lambda: outcome.append(validate_paths([tree])), daemon=True)
    worker.start()
    worker.join(30)
    if worker.is_alive():  # unblock the hung reader so the test run can finish
        with open(target, "wb"):
            pass
        pytest.fail("validate blocked on a FIFO")
    report = outcome[0]
    messages = [p.message for p in report.problems]  # type: ignore[attr-defined]
    assert any("not a regular file" in m for m in messages), messages


def test_the_history_file_gets_the_same_guard(tree: Path, tmp_path: Path) -> None:
    """patron-load-history.json linked outside is refused like the YAML files."""
    outside = tmp_path / "history.json"
    outside.write_text(f'{{"{CANARY}": 1}}', encoding="utf-8")
    (tree / "demo" / "patron-load-history.json").symlink_to(outside)
    code, output = _validate()
    assert code == 1
    assert "patron-load-history.json" in output
    assert "outside the institutions folder" in output
    assert CANARY not in output


def test_an_oversized_file_is_refused_before_reading(tree: Path) -> None:
    """A file over the size limit is refused from its size, with file and limit named."""
    target = tree / "demo" / "user-groups.yaml"
    with target.open("ab") as handle:
        handle.truncate(MAX_DOCUMENT_BYTES * 40)  # sparse: large on paper, nothing to read
    code, output = _validate()
    assert code == 1
    assert "institutions/demo/user-groups.yaml" in output
    assert f"the limit is {MAX_DOCUMENT_BYTES:,}" in output


def test_a_file_that_is_not_yaml_is_never_quoted(tree: Path) -> None:
    """A text file where YAML belongs (one long scalar) is reported without its text."""
    (tree / "demo" / "user-groups.yaml").write_text(
        f"{CANARY} password=hunter2 and more text\non two lines\n", encoding="utf-8"
    )
    code, output = _validate()
    assert code == 1
    assert "institutions/demo/user-groups.yaml:1:1" in output
    assert "is this the right file?" in output
    assert CANARY not in output
    assert "hunter2" not in output


def test_an_unclosed_quote_is_reported_at_the_quote(tree: Path) -> None:
    """A quote never closed is reported on the quote's line, not where the file ends."""
    (tree / "demo" / "user-groups.yaml").write_text(
        'groups:\n  - code: "01\n    description: x\n  - code: B\n    description: y\n',
        encoding="utf-8",
    )
    code, output = _validate()
    assert code == 1
    assert "institutions/demo/user-groups.yaml:2:11: invalid YAML: this quote is never closed" in (
        output
    )
