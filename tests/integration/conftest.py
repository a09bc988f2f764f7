"""The fixture institutions and a sandbox seeded from them, in a temporary working folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ..fixture_tree import copy_institutions, seed_sandbox


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """institutions/ (every fixture institution) and .sandbox/ seeded from it, made once per
    module (seeding is the slow part); each test works on its own copy."""
    root = tmp_path_factory.mktemp("integration-seed")
    copy_institutions(root / "institutions")
    seed_sandbox(root / ".sandbox", root / "institutions")
    return root


@pytest.fixture
def workdir(seeded: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the seeded folder as the working directory, outside CI and any real Alma."""
    shutil.copytree(seeded, tmp_path, dirs_exist_ok=True)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ALMA_API_URL", raising=False)
    monkeypatch.delenv("CI", raising=False)
    return tmp_path
