"""The model: frozen dataclasses every layer shares, importing nothing else of ours.

`desired` is what institutions edit in git; `history` is the aggregate patron-load history.
Values are immutable so that diff, plan and safety code can be pure functions over them.
"""

from reconciler.model.desired import (
    NOWHERE,
    DesiredState,
    Institution,
    InstitutionState,
    KeptGroup,
    PatronLoadPolicy,
    Problem,
    Region,
    RetiredGroup,
    SafetyPolicy,
    Sector,
    SourceLocation,
    UserGroups,
)

__all__ = [
    "NOWHERE",
    "DesiredState",
    "Institution",
    "InstitutionState",
    "KeptGroup",
    "PatronLoadPolicy",
    "Problem",
    "Region",
    "RetiredGroup",
    "SafetyPolicy",
    "Sector",
    "SourceLocation",
    "UserGroups",
]
