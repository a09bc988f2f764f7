"""Changes: one type per action, and a stable identity a journal can record."""

from __future__ import annotations

import pytest

from reconciler.model import KeptGroup, RetiredGroup
from reconciler.model.changes import (
    CHANGE_TYPES,
    Action,
    ChangeKey,
    DisableGroup,
    MoveUsers,
)
from reconciler.model.live import LiveGroup
from reconciler.model.plan import InstitutionPlan
from reconciler.planning.diff import diff_institution

from .builders import breakdown, desired, live

U = KeptGroup("01", "Undergraduate", default=True)
GUEST = KeptGroup("GUEST", "Guest borrower")
RETIRE_15 = RetiredGroup("15", "Autologin", "No one uses it any more.", move_users_to="GUEST")
ROWS = (
    LiveGroup("01", "Undergraduate", True, True),
    LiveGroup("GUEST", "Guest borrower"),
    LiveGroup("15", "Autologin"),
)


def test_every_action_has_exactly_one_change_type() -> None:
    """Each Action names one change type, and that type says it is that action."""
    assert set(CHANGE_TYPES) == set(Action)
    for action, kind in CHANGE_TYPES.items():
        assert kind.action is action


def test_key_reads_as_institution_action_group_and_target() -> None:
    """A move's key names its target; other changes' keys stop at the group."""
    move = MoveUsers("15", "retired", target="GUEST", users=42)
    assert str(move.key("ucf")) == "ucf/move_users/15->GUEST"
    assert move.key("ucf") == ChangeKey("ucf", Action.MOVE_USERS, "15", "GUEST")
    assert str(DisableGroup("15", "retired").key("ucf")) == "ucf/disable_group/15"


def test_key_survives_a_new_census() -> None:
    """Planning again after users came and went keeps each step's identity (no counts in it)."""
    state = desired([U, GUEST], [RETIRE_15])
    before = diff_institution(state, live(ROWS, census={"15": breakdown(42)}))
    after = diff_institution(state, live(ROWS, census={"15": breakdown(45)}))
    assert before != after
    assert [c.key("demo") for c in before] == [c.key("demo") for c in after]


def test_keys_are_unique_within_a_plan() -> None:
    """No two changes of one institution share a key, and a plan that would is refused."""
    state = desired([U, GUEST], [RETIRE_15])
    changes = diff_institution(state, live(ROWS, census={"15": breakdown(42)}))
    keys = [str(c.key("demo")) for c in changes]
    assert len(set(keys)) == len(keys) == 3
    with pytest.raises(ValueError, match="demo/disable_group/15"):
        InstitutionPlan("demo", (*changes, DisableGroup("15", "again")), (), 0, "sha256:x")
