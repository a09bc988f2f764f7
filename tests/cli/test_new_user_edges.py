"""What a new user hit on day one: repeatable resets, helpful failures, plain usage errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import requests
from typer.testing import CliRunner

from reconciler.cli import app
from reconciler.sandbox import SandboxServer

VALID = Path(__file__).resolve().parents[1] / "fixtures" / "valid" / "institutions"
runner = CliRunner()


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder with the two fixture institutions and no keys in the environment."""
    shutil.copytree(VALID, tmp_path / "institutions")
    monkeypatch.chdir(tmp_path)
    for name in ("ALMA_API_URL", "ALMA_API_KEY_DEMO", "ALMA_API_KEY_OTHER", "CI"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("ALMA_GROUPS_INSTITUTIONS", raising=False)
    return tmp_path


def _run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_sandbox_reset_gives_the_same_sandbox_every_time(workdir: Path) -> None:
    """reset, plan, reset, plan: the same plan, and the old ingested histories are gone."""
    assert _run("sandbox", "reset", "--scale", "0.002")[0] == 0
    first = _run("plan", "--sandbox")
    assert (workdir / ".sandbox" / "history").is_dir()
    assert _run("sandbox", "reset", "--scale", "0.002")[0] == 0
    assert not (workdir / ".sandbox" / "history").exists()
    second = _run("plan", "--sandbox")
    assert first[0] == second[0]
    assert first[1] == second[1]


def test_plan_without_keys_says_none_can_be_read_and_suggests_the_sandbox(
    workdir: Path,
) -> None:
    """No key and no --sandbox: one line naming the variables and --sandbox, exit 1."""
    code, out, err = _run("plan")
    assert code == 1
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert "none of the 2 institution(s) can be read" in lines[0]
    assert "ALMA_API_KEY_DEMO" in lines[0]
    assert "--sandbox" in lines[0]


def test_a_plan_that_reads_no_institution_says_so(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keys set but Alma unreachable: the errors, then "none could be read", not an empty plan."""
    monkeypatch.setenv("ALMA_API_KEY_DEMO", "some-key-for-demo")
    monkeypatch.setenv("ALMA_API_KEY_OTHER", "some-key-for-other")
    monkeypatch.setenv("ALMA_API_URL", "http://127.0.0.1:9")
    code, out, err = _run("plan")
    assert code == 1
    assert "no institutions to plan" not in out + err
    assert "connection failed or dropped: 127.0.0.1" in err
    assert "none of the 2 institution(s) could be read" in err.strip().splitlines()[-1]


def test_after_import_write_the_plan_is_empty(workdir: Path) -> None:
    """Importing every institution, including a disabled group that record types still map
    to, and planning at once shows no changes."""
    assert _run("sandbox", "reset", "--scale", "0.002")[0] == 0
    # a disabled, empty group that record types still map to, as polk's MISSINGLOST was
    with SandboxServer(workdir / ".sandbox", workdir / "institutions") as server:
        base = f"{server.base_url}/almaws/v1"
        headers = {
            "Authorization": f"apikey {server.api_keys()['demo']}",
            "Accept": "application/json",
        }
        groups_url = f"{base}/conf/code-tables/UserGroups"
        rows = requests.get(groups_url, headers=headers, timeout=10).json()
        rows["row"].append({"code": "OLDLOST", "description": "Old lost", "enabled": False})
        answer = requests.put(groups_url, json=rows, headers=headers, timeout=10)
        assert answer.status_code == 200, answer.text
        mapping_url = f"{base}/conf/mapping-tables/UserRecordTypeUserGroup"
        mapping = requests.get(mapping_url, headers=headers, timeout=10).json()
        mapping["row"].append({**mapping["row"][0], "column1": "OLDLOST"})
        answer = requests.put(mapping_url, json=mapping, headers=headers, timeout=10)
        assert answer.status_code == 200, answer.text
    for slug in ("demo", "other"):
        code, _, err = _run("import", slug, "--write", "--sandbox")
        assert code == 0, err
    written = (workdir / "institutions" / "demo" / "user-groups.yaml").read_text()
    assert "keep_record_type_mapping: true" in written
    code, out, err = _run("plan", "--sandbox", "--detailed-exitcode")
    assert (code, out.strip().splitlines()[-1]) == (0, "Plan: no changes in 2 institutions."), (
        out + err
    )


def test_verbose_is_accepted_after_the_subcommand(workdir: Path) -> None:
    """`validate -v` works like `-v validate`."""
    assert _run("validate", "-v")[0] == 0
    assert _run("-v", "validate")[0] == 0
    assert _run("validate", "--verbose", "institutions")[0] == 0


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["plan", "--format", "yaml"], "error: --format: 'yaml' is not one of"),
        (["sandbox", "reset", "--scale", "abc"], "error: --scale: expected a number"),
        (["plan", "--bogus"], "error: no such option --bogus"),
        (["patron-loads", "ingest"], "error: Missing argument"),
        (["validate", "--format", "xml"], "error: --format: 'xml' is not one of"),
    ],
)
def test_usage_errors_are_plain_words_and_exit_1(
    workdir: Path, args: list[str], expected: str
) -> None:
    """A usage mistake is one plain line and exit 1 (2 means "changes pending")."""
    code, _, err = _run(*args)
    assert code == 1
    assert err.startswith(expected)
    assert "Value error" not in err
    assert "Input should be" not in err
    assert "Traceback" not in err


@pytest.mark.parametrize("scale", ["0", "-1", "-0.5"])
def test_scale_must_be_above_zero(workdir: Path, scale: str) -> None:
    """`sandbox reset --scale 0` (or below) is refused before anything is seeded."""
    code, _, err = _run("sandbox", "reset", "--scale", scale)
    assert code == 1
    assert "--scale must be above 0" in err
    assert not (workdir / ".sandbox").exists()


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["plan", "--sandbox", "--out", "missing/plan.json"], "--out"),
        (
            ["plan", "--sandbox", "--affected-users-csv", "missing/users.csv"],
            "--affected-users-csv",
        ),
        (["survey", "--sandbox", "--out", "missing/survey.html"], "--out"),
        (["codeowners", "--write", "missing/CODEOWNERS"], "--write"),
    ],
)
def test_an_output_file_in_a_missing_folder_fails_alike_before_any_call(
    workdir: Path, args: list[str], option: str
) -> None:
    """Every command refuses a missing output folder the same way, before Alma is touched."""
    code, _, err = _run(*args)
    assert code == 1
    path = args[-1]
    assert err.strip().splitlines() == [
        f"error: {option} {path}: the folder missing does not exist; create it first"
    ]
    assert not (workdir / ".sandbox").exists()  # the sandbox never started
