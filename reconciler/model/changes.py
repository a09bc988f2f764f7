"""Changes: the steps of a plan, the data a reviewer reads and `apply` executes.

Changes sort into apply order by their action (then group and target), so every renderer
and every checksum sees the same order.

Design decisions:
- One frozen dataclass per action, each carrying only what that action needs, and `Change`
  their union. A move always has a target and a mapping change always has record types: the
  type says so, instead of optional fields that every reader must check. Code that dispatches
  on a change uses `match` with `assert_never`, so a new action cannot be forgotten silently.
- Every change has a stable identity, `ChangeKey` (slug, action, code and, for a move, target).
  Its string form ("ucf/move_users/15->GUEST") is what a journal records to skip steps that
  already succeeded when an interrupted apply runs again. Within one institution's plan no two
  changes share a key; the key holds no counts, so a re-planned step keeps its identity.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import ClassVar

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
class ChangeKey:
    """The identity of one change across runs: institution, action, group, and move target."""

    slug: str
    action: Action
    code: str
    target: str | None = None

    def __str__(self) -> str:
        arrow = f"->{self.target}" if self.target is not None else ""
        return f"{self.slug}/{self.action.value}/{self.code}{arrow}"


@dataclass(frozen=True)
class FieldChange:
    """One field of a code-table row, before and after."""

    name: str
    before: str | bool | None
    after: str | bool | None


@dataclass(frozen=True)
class _Step:
    """What every change has: the group it concerns, why it is planned, and where it was asked."""

    action: ClassVar[Action]
    code: str
    why: str
    location: SourceLocation = field(default=NOWHERE, compare=False, kw_only=True)

    @property
    def target_code(self) -> str | None:
        """The group that receives users (moves only); part of the identity."""
        return None

    def key(self, slug: str) -> ChangeKey:
        """This change's identity within the plan of institution `slug`."""
        return ChangeKey(slug, self.action, self.code, self.target_code)

    def sort_key(self) -> tuple[int, str, str]:
        return (self.action.order, self.code, self.target_code or "")


@dataclass(frozen=True)
class CreateGroup(_Step):
    """Add a row to the UserGroups code table (enabled)."""

    action: ClassVar[Action] = Action.CREATE_GROUP
    description: str
    default: bool = False


@dataclass(frozen=True)
class EnableGroup(_Step):
    """Enable a kept group's row that is disabled in Alma."""

    action: ClassVar[Action] = Action.ENABLE_GROUP


@dataclass(frozen=True)
class UpdateGroup(_Step):
    """Change a kept group's description or default flag; each field before and after."""

    action: ClassVar[Action] = Action.UPDATE_GROUP
    fields: tuple[FieldChange, ...]


@dataclass(frozen=True)
class AddMapping(_Step):
    """Let these record types use the group (UserRecordTypeUserGroup rows)."""

    action: ClassVar[Action] = Action.ADD_MAPPING
    record_types: tuple[str, ...]


@dataclass(frozen=True)
class MoveUsers(_Step):
    """Give every remaining user of a retired group the kept group `target`."""

    action: ClassVar[Action] = Action.MOVE_USERS
    target: str
    users: int
    breakdown: UserBreakdown | None = None
    member_fingerprint: str | None = None  # of the group's members when the plan was made

    @property
    def target_code(self) -> str | None:
        return self.target


@dataclass(frozen=True)
class PurgeUsers(_Step):
    """Delete the retired group's purgeable users (inactive, no loans, requests or fees)."""

    action: ClassVar[Action] = Action.PURGE_USERS
    users: int
    breakdown: UserBreakdown | None = None
    member_fingerprint: str | None = None  # of the group's members when the plan was made
    blocked: tuple[tuple[str, int], ...] = ()  # users kept back, by reason


@dataclass(frozen=True)
class VerifyEmpty(_Step):
    """A fresh census must find the group empty before its row is touched."""

    action: ClassVar[Action] = Action.VERIFY_EMPTY


@dataclass(frozen=True)
class RemoveMapping(_Step):
    """Remove the record-type mapping rows that name the group."""

    action: ClassVar[Action] = Action.REMOVE_MAPPING
    record_types: tuple[str, ...]


@dataclass(frozen=True)
class DisableGroup(_Step):
    """Disable the retired group's row (reversible)."""

    action: ClassVar[Action] = Action.DISABLE_GROUP


@dataclass(frozen=True)
class DeleteGroup(_Step):
    """Delete a disabled, empty row (phase 2; cannot be restored by API)."""

    action: ClassVar[Action] = Action.DELETE_GROUP


Change = (
    CreateGroup
    | EnableGroup
    | UpdateGroup
    | AddMapping
    | MoveUsers
    | PurgeUsers
    | VerifyEmpty
    | RemoveMapping
    | DisableGroup
    | DeleteGroup
)

CHANGE_TYPES: dict[Action, type[Change]] = {
    kind.action: kind
    for kind in (
        CreateGroup,
        EnableGroup,
        UpdateGroup,
        AddMapping,
        MoveUsers,
        PurgeUsers,
        VerifyEmpty,
        RemoveMapping,
        DisableGroup,
        DeleteGroup,
    )
}


def change_order(change: Change) -> tuple[int, str, str]:
    """Apply order: by action, then group, then target (a `sorted` key for any change)."""
    return change.sort_key()
