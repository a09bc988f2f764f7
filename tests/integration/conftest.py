"""A small copy of the shipped institutions in a temporary working folder, for CLI runs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# the six that propose retirements, plus enough others that some are left without drift
PICKED = ("bc", "cf", "dsc", "fiu", "fsu", "mdc", "ncf", "tcc", "ucf", "ufl", "usf", "valencia")


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder with institutions/ (twelve real ones) as the working directory."""
    for slug in PICKED:
        shutil.copytree(REPO / "institutions" / slug, tmp_path / "institutions" / slug)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ALMA_API_URL", raising=False)
    monkeypatch.delenv("CI", raising=False)
    return tmp_path
