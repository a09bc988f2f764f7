"""Changes, violations and plans: the data a reviewer reads and `apply` executes.

A plan is data, not behaviour (as in Terraform): it can be rendered, saved, checksummed,
compared and applied later. Changes sort into apply order by their action alone, so every
renderer and every checksum sees the same order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from reconciler.model.desired import NOWHERE, SourceLocation
from reconciler.model.live import UserBreakdown


class Action(StrEnum):
    """What a change does, in the order apply runs them (DESIGN.md, "Plan")."""

    CREATE_GROUP = "create_group"
    ENABLE_GROUP = "enable_group"
    UPDATE_GROUP = "update_group"
    ADD_MAPPING = "add_mapping"
    MOVE_USERS = "move_users"
    PURGE_USERS = "purge_users"
    VERIFY_EMPTY = "verify_empty"
    REMOVE_MAPPING = "remove_mapping"
    DISABLE_GROUP = "disable_group"
    DELETE_GROUP = "delete_group"

    @property
    def order(self) -> int:
        return _ORDER[self]


_ORDER = {action: index for index, action in enumerate(Action)}


@dataclass(frozen=True)
class FieldChange:
    """One field of a code-table row, before and after."""

    name: str
    before: str | bool | None
    after: str | bool | None


@dataclass(frozen=True)
class Change:
    """One step of a plan, with before -> after, counts, and why."""

    action: Action
    code: str
    why: str
    fields: tuple[FieldChange, ...] = ()
    target: str | None = None  # the group that receives moved users
    users: int = 0  # users moved, purged or expected to be zero (verify)
    breakdown: UserBreakdown | None = None
    member_fingerprint: str | None = None  # of the group's members when the plan was made
    blocked: tuple[tuple[str, int], ...] = ()  # purge: users kept back, by reason
    record_types: tuple[str, ...] = ()
    location: SourceLocation = field(default=NOWHERE, compare=False)

    def sort_key(self) -> tuple[int, str, str]:
        return (self.action.order, self.code, self.target or "")


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

    @property
    def has_changes(self) -> bool:
        return bool(self.changes)

    @property
    def users_moved(self) -> int:
        return sum(c.users for c in self.changes if c.action is Action.MOVE_USERS)

    @property
    def users_purged(self) -> int:
        return sum(c.users for c in self.changes if c.action is Action.PURGE_USERS)
