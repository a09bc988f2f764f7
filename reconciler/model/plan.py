"""Plans: what a reviewer reads, what `plan --out` saves and what `apply` executes.

A plan is data, not behaviour (as in Terraform): it can be rendered, saved, checksummed,
compared and applied later. It lives in the model, beside the changes it holds, so that
apply can load and run a saved plan without importing the planner (deepdiff, safety rules).
`PLAN_FORMAT_VERSION` is the version of the saved document (schemas/plan.schema.json).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from reconciler.model.changes import Change, MoveUsers, PurgeUsers
from reconciler.model.desired import NOWHERE, SourceLocation

PLAN_FORMAT_VERSION = 2


class Rule(StrEnum):
    """Safety rules; each is a small function in reconciler.planning.safety."""

    UNMANAGED_GROUP = "unmanaged-group"
    USERS_WITHOUT_TARGET = "users-without-target"
    IN_RECENT_PATRON_LOAD = "in-recent-patron-load"
    PATRON_LOAD_HISTORY = "patron-load-history"
    REFERENCED_GROUP = "referenced-group"
    PROTECTED_OR_DEFAULT = "protected-or-default"
    THRESHOLD = "users-moved-threshold"
    API_BUDGET = "api-budget"
    CENSUS_NOT_EXACT = "census-not-exact"


@dataclass(frozen=True)
class Violation:
    """A safety rule the plan breaks: what, the numbers, and the way out."""

    rule: Rule
    code: str | None  # the group concerned, or None for the institution as a whole
    message: str
    way_out: str
    location: SourceLocation = field(default=NOWHERE, compare=False)

    def sort_key(self) -> tuple[str, str, str]:
        return (self.rule.value, self.code or "", self.message)


@dataclass(frozen=True)
class InstitutionPlan:
    """The plan for one institution: ordered changes, violations, and what it will cost."""

    slug: str
    changes: tuple[Change, ...]
    violations: tuple[Violation, ...]
    api_calls: int  # estimated calls to apply it
    live_fingerprint: str  # of the group table, to refuse applying to a changed Alma
    users_total: int | None = 0  # None: Alma did not say (-1)
    daily_calls_left: int | None = None

    def __post_init__(self) -> None:
        keys = [change.key(self.slug) for change in self.changes]
        if len(set(keys)) != len(keys):
            twice = sorted({str(k) for k in keys if keys.count(k) > 1})
            raise ValueError(f"changes with the same identity: {', '.join(twice)}")

    @property
    def has_changes(self) -> bool:
        return bool(self.changes)

    @property
    def users_moved(self) -> int:
        return sum(c.users for c in self.changes if isinstance(c, MoveUsers))

    @property
    def users_purged(self) -> int:
        return sum(c.users for c in self.changes if isinstance(c, PurgeUsers))


@dataclass(frozen=True)
class Plan:
    """A plan across institutions, tied to the commit and desired state it was made from."""

    institutions: tuple[InstitutionPlan, ...]
    commit: str | None
    desired_hash: str
    created_at: datetime | None = None  # set when saved; apply refuses plans older than --max-age

    @property
    def has_changes(self) -> bool:
        return any(p.has_changes for p in self.institutions)

    @property
    def violations(self) -> tuple[Violation, ...]:
        return tuple(v for p in self.institutions for v in p.violations)

    @property
    def api_calls(self) -> int:
        return sum(p.api_calls for p in self.institutions)
