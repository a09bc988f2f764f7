"""The broken corpus: each document in tests/fixtures/broken/ makes `validate` print exactly its
.expected lines, and the valid tree it is dropped into passes on its own.

A case's name says where its document goes: `ug-*` replaces demo's user-groups.yaml, `inst-*`
replaces demo's institution.yaml, `job-*` replaces demo's update-users-job.json, and
`extra-NAME` is added beside them as NAME.yaml (a stray file). A document holding
`# pad-to-bytes: N` is padded with comment lines to exactly N bytes when it is put in place, so
the oversized case needs no big file in git.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reconciler.cli import app
from reconciler.desired.yaml_source import MAX_DOCUMENT_BYTES

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
BROKEN = FIXTURES / "broken"
VALID = FIXTURES / "valid" / "institutions"
CASES = sorted(path for path in BROKEN.iterdir() if path.suffix in {".yaml", ".json", ".bin"})
REPLACES = {"ug": "user-groups.yaml", "inst": "institution.yaml", "job": "update-users-job.json"}
PAD_MARKER = b"# pad-to-bytes: "

PROBLEM_LINE = re.compile(r"^institutions/[a-z]+/[a-z-]+\.(yaml|json):\d+:\d+: ")
FOLDER_LINE = re.compile(r"^institutions/[a-z]+: ")  # a stray file: the folder has no line
SUMMARY = re.compile(r"^(\d+) problems? in \d+ files? \(2 institutions, 5 files checked\)$")


def _pad(data: bytes) -> bytes:
    """Append comment lines until the document is exactly the size its marker asks for."""
    size = int(data.split(PAD_MARKER, 1)[1].split(b"\n", 1)[0])
    line = b"#" * 79 + b"\n"
    data += line * ((size - len(data)) // len(line))
    return data + b"#" * (size - len(data) - 1) + b"\n"


def _place(case: Path, root: Path) -> None:
    """Copy the valid tree under `root` and put the case's document where its name says."""
    shutil.copytree(VALID, root / "institutions")
    demo = root / "institutions" / "demo"
    prefix, rest = case.stem.split("-", 1)
    target = demo / f"{rest}.yaml" if prefix == "extra" else demo / REPLACES[prefix]
    data = case.read_bytes()
    target.write_bytes(_pad(data) if PAD_MARKER in data else data)


def _validate(root: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[int, list[str], str]:
    """Run `alma-groups validate institutions` in-process from `root`: exit code, stdout lines
    and everything printed (stdout and stderr)."""
    monkeypatch.chdir(root)
    result = CliRunner().invoke(app, ["validate", "institutions"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.stdout.splitlines(), result.output


@pytest.mark.parametrize("case", CASES, ids=[case.stem for case in CASES])
def test_broken_document_prints_its_expected_problems(
    case: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The case exits 1 and prints exactly its .expected lines (file:line:col), then a summary."""
    _place(case, tmp_path)
    exit_code, lines, _ = _validate(tmp_path, monkeypatch)
    expected = case.with_suffix(".expected").read_text(encoding="utf-8").splitlines()
    assert exit_code == 1
    assert lines[:-1] == expected
    summary = SUMMARY.match(lines[-1])
    assert summary, lines[-1]
    assert int(summary.group(1)) == len(expected)
    shape = FOLDER_LINE if case.stem.startswith("extra-") else PROBLEM_LINE
    assert all(shape.match(line) for line in expected), expected


@pytest.mark.parametrize("case", CASES, ids=[case.stem for case in CASES])
def test_broken_document_fails_without_a_traceback(
    case: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No broken document crashes the validator or leaks an exception into its output."""
    _place(case, tmp_path)
    _, _, output = _validate(tmp_path, monkeypatch)
    assert "Traceback" not in output
    assert "Error" not in output


def test_corpus_is_complete() -> None:
    """The corpus has at least 60 cases, each named for its target and paired with an .expected."""
    stems = [case.stem for case in CASES]
    assert len(stems) >= 60
    assert len(set(stems)) == len(stems), "a case exists under two suffixes"
    assert all(stem.split("-", 1)[0] in {*REPLACES, "extra"} for stem in stems), stems
    expected = {path.stem for path in BROKEN.glob("*.expected")}
    assert expected == set(stems)
    assert all(BROKEN.joinpath(f"{stem}.expected").read_text().strip() for stem in stems)


def test_oversized_case_is_padded_past_the_limit(tmp_path: Path) -> None:
    """The padded document really is larger than the reader's limit."""
    _place(BROKEN / "ug-oversized.yaml", tmp_path)
    size = (tmp_path / "institutions" / "demo" / "user-groups.yaml").stat().st_size
    assert size > MAX_DOCUMENT_BYTES


def test_valid_tree_passes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The valid two-institution tree the cases break exits 0 with the ok summary."""
    shutil.copytree(VALID, tmp_path / "institutions")
    exit_code, lines, _ = _validate(tmp_path, monkeypatch)
    assert (exit_code, lines) == (0, ["ok: 2 institutions, 5 files valid"])


def test_utf8_bom_is_accepted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Files saved with a UTF-8 byte-order mark (as Windows editors do) still pass."""
    shutil.copytree(VALID, tmp_path / "institutions")
    for name in ("user-groups.yaml", "institution.yaml"):
        path = tmp_path / "institutions" / "demo" / name
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    exit_code, lines, _ = _validate(tmp_path, monkeypatch)
    assert (exit_code, lines) == (0, ["ok: 2 institutions, 5 files valid"])
