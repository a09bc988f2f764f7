"""A few fixture institutions in a temporary working folder, for `survey --sandbox` runs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ..fixture_tree import copy_institutions, seed_sandbox

# ucf retires groups, ncf is tiny (all of its groups empty but one), bc is an ordinary college
PICKED = ("bc", "ncf", "ucf")


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """institutions/ and a sandbox seeded from it, made once per module (seeding is the slow
    part); each test works on its own copy."""
    root = tmp_path_factory.mktemp("survey-seed")
    copy_institutions(root / "institutions", PICKED)
    seed_sandbox(root / ".sandbox", root / "institutions")
    return root


@pytest.fixture
def workdir(seeded: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the seeded folder as the working directory, outside CI and any real Alma."""
    shutil.copytree(seeded, tmp_path, dirs_exist_ok=True)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ALMA_API_URL", raising=False)
    monkeypatch.delenv("CI", raising=False)
    for slug in PICKED:
        monkeypatch.delenv(f"ALMA_API_KEY_{slug.upper()}", raising=False)
    return tmp_path
