"""The 40 institutions shipped in institutions/ are valid and look like FLVC.

Only what does not change when an institution edits its groups is checked here: validity,
membership, the modeline. Their proposals are theirs to change (every merged pull request and
every apply does); tests of behaviour use tests/fixtures/institutions/ instead.
"""

from __future__ import annotations

from pathlib import Path

from reconciler.desired import load_desired_state, validate_paths
from reconciler.model import Sector
from reconciler.sandbox.population import PATRON_POPULATION

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


def test_every_institution_has_a_sandbox_headcount() -> None:
    """The sandbox seeds each shipped institution from its own headcount, none from a fallback."""
    slugs = {path.name for path in INSTITUTIONS.iterdir() if path.is_dir()}
    assert slugs == set(PATRON_POPULATION)


def test_every_yaml_file_carries_the_schema_modeline() -> None:
    """Editors find the schema through the yaml-language-server modeline on line 1."""
    for path in sorted(INSTITUTIONS.glob("*/*.yaml")):
        first = path.read_text(encoding="utf-8").splitlines()[0]
        schema = "institution" if path.name == "institution.yaml" else "user-groups"
        assert first == f"# yaml-language-server: $schema=../../schemas/{schema}.schema.json", path
