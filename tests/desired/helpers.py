"""Builders for small institution trees written to a temporary folder."""

from __future__ import annotations

from pathlib import Path

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
