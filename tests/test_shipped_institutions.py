"""The 40 institutions shipped in institutions/ are valid and look like FLVC."""

from __future__ import annotations

from pathlib import Path

from reconciler.desired import load_desired_state, validate_paths
from reconciler.model import Sector

ROOT = Path(__file__).resolve().parents[1]
INSTITUTIONS = ROOT / "institutions"


def test_all_forty_validate() -> None:
    """`alma-groups validate` has nothing to say about the shipped tree."""
    report = validate_paths([INSTITUTIONS], cwd=ROOT)
    assert report.problems == ()
    assert len(report.institutions_checked) == 40


def test_twelve_universities_and_twenty_eight_colleges() -> None:
    """The State University System has 12 members and the Florida College System 28."""
    state = load_desired_state(INSTITUTIONS)
    sectors = [s.institution.sector for s in state.institutions]
    assert sectors.count(Sector.UNIVERSITY) == 12
    assert sectors.count(Sector.COLLEGE) == 28
    assert all(s.institution.alma_code.startswith("01FALSC_") for s in state.institutions)


def test_a_handful_propose_retirements() -> None:
    """Some institutions propose retiring commonly unused groups, so the demo plan is real."""
    state = load_desired_state(INSTITUTIONS)
    proposing = [s.institution.slug for s in state.institutions if s.user_groups.retired]
    assert 3 <= len(proposing) <= 10
    retired = {g.code for s in state.institutions for g in s.user_groups.retired}
    assert retired & {"15", "69", "99", "SUBLIB", "RESERVES", "MISSING"}


def test_every_yaml_file_carries_the_schema_modeline() -> None:
    """Editors find the schema through the yaml-language-server modeline on line 1."""
    for path in sorted(INSTITUTIONS.glob("*/*.yaml")):
        first = path.read_text(encoding="utf-8").splitlines()[0]
        schema = "institution" if path.name == "institution.yaml" else "user-groups"
        assert first == f"# yaml-language-server: $schema=../../schemas/{schema}.schema.json", path
