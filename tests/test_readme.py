"""The README tells the truth about this repository: files it names exist, its examples are
valid, and the generated CODEOWNERS is committed and current."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import jsonschema
import pytest
import typer
import typer.core
import typer.main
import yaml
from typer.testing import CliRunner

from reconciler.cli import app

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")
_IGNORED = {
    line.strip().strip("/")
    for line in (REPO / ".gitignore").read_text(encoding="utf-8").splitlines()
    if line.strip() and not line.startswith("#")
}
# what a clone has at its top: everything here but git's and the ignored (generated) entries
TOP_LEVEL = {path.name for path in REPO.iterdir()} - _IGNORED - {".git"}


def _named_paths() -> set[str]:
    """Every `code` token in the README that names a path inside the repository."""
    found = set()
    for span in re.findall(r"`([^`\n]+)`", README):
        for word in span.split():
            if not re.fullmatch(r"[\w.\-/]+", word):
                continue
            first = word.split("/")[0]
            if "/" in word and first in TOP_LEVEL:
                found.add(word)
    return found


def test_every_file_the_readme_names_exists() -> None:
    """No reference to a file that is not in the repository (such as DESIGN.md)."""
    names = _named_paths()
    assert ".github/CODEOWNERS" in names  # the scan does see paths
    missing = sorted(name for name in names if not (REPO / name).exists())
    assert missing == []
    assert "DESIGN.md" not in README
    assert "reference/" not in README  # the shared reference folder is not in the repository


def test_readme_says_how_to_get_pre_commit() -> None:
    """pre-commit is either in the test extra or the README says how to install it."""
    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    in_extra = any(dep.startswith("pre-commit") for dep in extras["test"])
    assert in_extra or "install pre-commit" in README


def readme_institution_example() -> dict[str, object]:
    """The README's example institution.yaml, parsed."""
    block = README.split("`institutions/ucf/institution.yaml`:", 1)[1].split("```yaml", 1)[1]
    example = yaml.safe_load(block.split("```", 1)[0])
    assert isinstance(example, dict)
    return example


def test_the_example_institution_yaml_is_valid() -> None:
    """The README's example institution.yaml passes the schema the real files are held to.

    (Not compared with the shipped ucf file: institutions edit theirs by pull request.)
    """
    schema = json.loads((REPO / "schemas" / "institution.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(readme_institution_example())


def test_the_example_plan_uses_the_example_limits() -> None:
    """The example plan's threshold message quotes the example's max_users_moved_pct."""
    safety = readme_institution_example()["safety"]
    assert isinstance(safety, dict)
    pct, limit = safety["max_users_moved_pct"], safety["max_users_moved"]
    assert f"above the limit of {limit:,} users or {pct}%" in README


def test_apply_and_rollback_are_named_only_as_they_exist() -> None:
    """Commands the tool does not have are not shown as `alma-groups <command>`."""
    root = typer.main.get_command(app)
    assert isinstance(root, typer.core.TyperGroup)
    existing = set(root.commands)
    named = set(re.findall(r"`alma-groups ([a-z][a-z-]*)", README))
    assert named - existing == set()
    if "apply" not in existing:  # then the README says so where it names apply
        assert "`apply` and `rollback` are not built" in README


def test_codeowners_is_committed_and_current(monkeypatch: pytest.MonkeyPatch) -> None:
    """.github/CODEOWNERS is in the repository and equals what `codeowners` generates."""
    monkeypatch.setenv("ALMA_GROUPS_INSTITUTIONS", str(REPO / "institutions"))
    result = CliRunner().invoke(app, ["codeowners"])
    assert result.exit_code == 0, result.output
    generated = result.stdout
    assert (REPO / ".github" / "CODEOWNERS").read_text(encoding="utf-8") == generated


def test_license_is_an_spdx_string() -> None:
    """pyproject.toml gives the license as an SPDX expression, not a table (PEP 639)."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["license"] == "MIT"


def test_every_copied_sample_is_listed_with_its_source() -> None:
    """tests/fixtures/alma-samples: each file has a row in SOURCES.md; no contract test skips."""
    samples = REPO / "tests" / "fixtures" / "alma-samples"
    sources = (samples / "SOURCES.md").read_text(encoding="utf-8")
    files = [p.relative_to(samples).as_posix() for p in samples.rglob("*") if p.is_file()]
    assert len(files) > 5
    unlisted = [f for f in files if f != "SOURCES.md" and f"| {f} |" not in sources]
    assert unlisted == []
    for test in ("alma/test_contract_samples.py", "patron_loads/test_counting.py"):
        assert "pytest.skip" not in (REPO / "tests" / test).read_text()
