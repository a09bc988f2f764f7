"""The model: frozen dataclasses every layer shares, importing nothing else of ours.

`desired` is what institutions edit in git; `history` is the aggregate patron-load history;
`live` is what was read of Alma; `changes` are the typed steps of a plan and `plan` the plan
itself; `codec` turns any of them into JSON-ready data and back.
Values are immutable so that diff, plan and safety code can be pure functions over them.
"""

from reconciler.model.desired import (
    FILLED_BY_TOOL,
    GROUP_SWITCH_PARAMETER,
    GROUP_VALUE_PARAMETER,
    JOB_NAME_PARAMETER,
    NOWHERE,
    SET_ID_PARAMETER,
    UPDATE_USERS_JOB_NAME,
    DesiredState,
    Institution,
    InstitutionState,
    JobParameter,
    KeptGroup,
    PatronLoadPolicy,
    Problem,
    Region,
    RetiredGroup,
    SafetyPolicy,
    Sector,
    SourceLocation,
    UpdateUsersJobTemplate,
    UserGroups,
)
from reconciler.model.history import (
    MAX_CODE_LENGTH,
    NO_GROUP,
    NO_GROUP_LABEL,
    GroupSighting,
    PatronLoadFile,
    PatronLoadHistory,
    group_label,
)

__all__ = [
    "FILLED_BY_TOOL",
    "GROUP_SWITCH_PARAMETER",
    "GROUP_VALUE_PARAMETER",
    "JOB_NAME_PARAMETER",
    "MAX_CODE_LENGTH",
    "NOWHERE",
    "NO_GROUP",
    "NO_GROUP_LABEL",
    "SET_ID_PARAMETER",
    "UPDATE_USERS_JOB_NAME",
    "DesiredState",
    "GroupSighting",
    "Institution",
    "InstitutionState",
    "JobParameter",
    "KeptGroup",
    "PatronLoadFile",
    "PatronLoadHistory",
    "PatronLoadPolicy",
    "Problem",
    "Region",
    "RetiredGroup",
    "SafetyPolicy",
    "Sector",
    "SourceLocation",
    "UpdateUsersJobTemplate",
    "UserGroups",
    "group_label",
]
