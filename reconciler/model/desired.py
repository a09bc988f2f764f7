"""The desired state as frozen dataclasses: what institutions edit, once it has been validated.

Values are immutable so that the diff, plan and safety code can be pure functions over them.
Source locations ride along (excluded from equality) so later stages can point a reviewer at
the exact line that asked for a change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with a document, printed as `file:line:col: key: message`."""

    file: str
    line: int
    column: int
    key: str
    message: str

    def __str__(self) -> str:
        # line 0 means the problem is the file itself (missing, unreadable): no position to give
        where = f"{self.file}:{self.line}:{self.column}" if self.line else self.file
        return f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"


@dataclass(frozen=True)
class SourceLocation:
    """Where a value was written: a repository-relative path and 1-based line and column."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


NOWHERE = SourceLocation("<generated>", 0, 0)


class Sector(StrEnum):
    UNIVERSITY = "university"
    COLLEGE = "college"


class Region(StrEnum):
    """Ex Libris API gateways; the host of each lives in the Alma client."""

    NA = "na"
    EU = "eu"
    AP = "ap"
    APS = "aps"
    CA = "ca"
    CN = "cn"


@dataclass(frozen=True)
class PatronLoadPolicy:
    """How far back a patron load still counts as 'this group is in use'."""

    lookback_days: int = 400


@dataclass(frozen=True)
class SafetyPolicy:
    """An institution's guard rails; crossing a threshold needs an explicit acknowledgement."""

    protected_groups: tuple[str, ...] = ()
    max_users_moved: int = 2000
    max_users_moved_pct: float = 10.0


@dataclass(frozen=True)
class Institution:
    """institution.yaml: who the institution is and how to reach its Alma."""

    slug: str
    alma_code: str
    name: str
    sector: Sector
    region: Region
    api_key_env: str
    owners: tuple[str, ...]
    patron_load: PatronLoadPolicy = PatronLoadPolicy()
    safety: SafetyPolicy = SafetyPolicy()
    rate_limit_per_second: float = 20.0
    rules_report: str | None = None  # Analytics path of the fulfillment-rules report
    bulk_threshold: int = 1000  # users in one group from which apply moves them by a bulk job
    location: SourceLocation = field(default=NOWHERE, compare=False)


@dataclass(frozen=True)
class KeptGroup:
    """A user group the institution keeps in service.

    `in_patron_loads` is False for a group staff assign by hand (Alumni, Guest): no patron load
    will ever carry it, so being absent from the loads says nothing about whether it is used.
    """

    code: str
    description: str
    default: bool = False
    location: SourceLocation = field(default=NOWHERE, compare=False)
    in_patron_loads: bool = True  # last, so positional construction keeps working


@dataclass(frozen=True)
class RetiredGroup:
    """A user group to take out of service, with where its users go and why."""

    code: str
    description: str
    reason: str
    move_users_to: str | None = None
    purge_inactive_users: bool = False
    delete_row: bool = False
    acknowledge_users_moved: int | None = None
    location: SourceLocation = field(default=NOWHERE, compare=False)


@dataclass(frozen=True)
class UserGroups:
    """user-groups.yaml: every group kept, and every group being retired."""

    groups: tuple[KeptGroup, ...]
    retired: tuple[RetiredGroup, ...] = ()

    def kept_codes(self) -> frozenset[str]:
        return frozenset(group.code for group in self.groups)

    def assigned_by_hand(self) -> frozenset[str]:
        """Codes of kept groups marked `in_patron_loads: false`."""
        return frozenset(group.code for group in self.groups if not group.in_patron_loads)

    def retired_codes(self) -> frozenset[str]:
        return frozenset(group.code for group in self.retired)

    def default_group(self) -> KeptGroup | None:
        return next((group for group in self.groups if group.default), None)


# The parameters of "Update/Notify Users" that every bulk move sets itself; the rest of the
# template is sent exactly as the Run-a-Job wizard showed it.
SET_ID_PARAMETER = "set_id"
JOB_NAME_PARAMETER = "job_name"
GROUP_SWITCH_PARAMETER = "UPDATE_User_Information_UserGroup_Active"
GROUP_VALUE_PARAMETER = "UPDATE_User_Information_UserGroup_Value"
FILLED_BY_TOOL = (
    SET_ID_PARAMETER,
    JOB_NAME_PARAMETER,
    GROUP_SWITCH_PARAMETER,
    GROUP_VALUE_PARAMETER,
)
UPDATE_USERS_JOB_NAME = "Update/Notify Users"


@dataclass(frozen=True)
class JobParameter:
    """One `{name, value}` of the wizard's payload; `filled_by_tool` ones are set per run."""

    name: str
    value: str
    filled_by_tool: bool = False
    location: SourceLocation = field(default=NOWHERE, compare=False)


@dataclass(frozen=True)
class UpdateUsersJobTemplate:
    """update-users-job.json: the "Update/Notify Users" run as Alma's Run-a-Job wizard shows it.

    `job_id` is None when the file does not give it; apply then looks the job up by `job_name`.
    """

    job_name: str
    parameters: tuple[JobParameter, ...]
    job_id: str | None = None
    location: SourceLocation = field(default=NOWHERE, compare=False)

    def parameters_for(self, *, set_id: str, target_group: str, run_name: str) -> dict[str, str]:
        """Name → value for one run: the wizard's values, with the tool's four filled in."""
        filled = {
            SET_ID_PARAMETER: set_id,
            JOB_NAME_PARAMETER: run_name,
            GROUP_SWITCH_PARAMETER: "true",
            GROUP_VALUE_PARAMETER: target_group,
        }
        values = {p.name: filled.get(p.name, p.value) for p in self.parameters}
        # a template without job_name still gets one, so Monitor Jobs says who ran it
        return {**values, **{k: v for k, v in filled.items() if k not in values}}


@dataclass(frozen=True)
class InstitutionState:
    """One institution's whole desired state: identity, policies, groups, bulk-job template."""

    institution: Institution
    user_groups: UserGroups
    update_users_job: UpdateUsersJobTemplate | None = None


@dataclass(frozen=True)
class DesiredState:
    """Every institution loaded from git, keyed by slug in a stable order."""

    institutions: tuple[InstitutionState, ...]

    def slugs(self) -> tuple[str, ...]:
        return tuple(state.institution.slug for state in self.institutions)

    def get(self, slug: str) -> InstitutionState | None:
        return next((s for s in self.institutions if s.institution.slug == slug), None)
