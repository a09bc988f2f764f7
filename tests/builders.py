"""Institutions for tests, built one way: in memory (`institution`) or as YAML on disk
(`write_institution`).

Every test that needs an `Institution` gets it here, so a new field of the model is added in
one place. Defaults are a valid FLVC-shaped college; tests pass only what they are about.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from reconciler.model import Institution, Region, SafetyPolicy, Sector

# One owning team for every test institution (the golden plan files hash the desired state).
OWNERS = ("@flvc/demo",)


def institution(
    slug: str = "demo",
    *,
    name: str | None = None,
    alma_code: str | None = None,
    sector: Sector = Sector.COLLEGE,
    api_key_env: str | None = None,
    **safety: object,
) -> Institution:
    """An institution `slug` (key in ALMA_API_KEY_<SLUG>); keyword `safety` fields (e.g.
    `max_users_moved=10`) replace the defaults of its `SafetyPolicy`."""
    return Institution(
        slug=slug,
        alma_code=alma_code or f"01TEST_{slug.upper()}",
        name=name or f"Test {slug}",
        sector=sector,
        region=Region.NA,
        api_key_env=api_key_env or f"ALMA_API_KEY_{slug.upper()}",
        owners=OWNERS,
        safety=dataclasses.replace(SafetyPolicy(), **safety),  # type: ignore[arg-type]
    )


INSTITUTION_YAML = """\
slug: {slug}
alma_code: 01TEST_{upper}
name: Test Institution {upper}
sector: university
region: na
api_key_env: ALMA_API_KEY_{upper}
owners: ["@flvc-alma/{slug}"]
safety:
  protected_groups: ["01"]
"""

USER_GROUPS_YAML = """\
groups:
  - code: "01"
    description: Undergraduate
    default: true
  - code: "GUEST"
    description: Guest borrower
retired:
  - code: "15"
    description: Autologin
    reason: No active users since 2019 (ticket 4711).
    move_users_to: "GUEST"
"""


def write_institution(
    root: Path,
    slug: str,
    *,
    institution: str | None = None,
    user_groups: str | None = None,
) -> Path:
    """Write `root/slug/` with valid defaults, or the given document texts."""
    folder = root / slug
    folder.mkdir(parents=True, exist_ok=True)
    text = institution or INSTITUTION_YAML.format(slug=slug, upper=slug.upper())
    (folder / "institution.yaml").write_text(text, encoding="utf-8")
    (folder / "user-groups.yaml").write_text(user_groups or USER_GROUPS_YAML, encoding="utf-8")
    return folder
