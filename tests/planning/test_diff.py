"""The diff: desired vs live becomes the right changes, in apply order."""

from __future__ import annotations

from reconciler.model import KeptGroup, RetiredGroup
from reconciler.model.changes import Action, FieldChange
from reconciler.model.live import LiveGroup
from reconciler.planning.diff import diff_institution

from .builders import breakdown, desired, live

U = KeptGroup("01", "Undergraduate", default=True)
GUEST = KeptGroup("GUEST", "Guest borrower")
ROWS = (LiveGroup("01", "Undergraduate", True, True), LiveGroup("GUEST", "Guest borrower"))


def actions(changes: object) -> list[tuple[str, str]]:
    return [(c.action.value, c.code) for c in changes]  # type: ignore[attr-defined]


def test_identical_states_have_no_changes() -> None:
    """Desired equal to live gives an empty plan."""
    assert diff_institution(desired([U, GUEST]), live(ROWS)) == ()


def test_descriptions_compare_without_stray_spaces() -> None:
    """Alma's padded descriptions are not reported as changes."""
    padded = (LiveGroup("01", " Undergraduate  ", True, True), ROWS[1])
    assert diff_institution(desired([U, GUEST]), live(padded)) == ()


def test_new_group_is_created_with_mapping_rows_like_the_default() -> None:
    """A new kept group is created and mapped to the default group's record types."""
    new = KeptGroup("CONTED", "Continuing education")
    changes = diff_institution(
        desired([U, GUEST, new]), live(ROWS, mappings=[("PUBLIC", "01"), ("STAFF", "01")])
    )
    assert actions(changes) == [("create_group", "CONTED"), ("add_mapping", "CONTED")]
    assert changes[1].record_types == ("PUBLIC", "STAFF")


def test_description_default_and_enabled_changes() -> None:
    """Changed descriptions, a moved default and a disabled kept row become updates."""
    rows = (LiveGroup("01", "Undergrad", True, True), LiveGroup("GUEST", "Guest borrower", False))
    changes = diff_institution(
        desired([KeptGroup("01", "Undergraduate"), KeptGroup("GUEST", "Guest borrower", True)]),
        live(rows),
    )
    assert actions(changes) == [
        ("enable_group", "GUEST"),
        ("update_group", "01"),
        ("update_group", "GUEST"),
    ]
    assert changes[1].fields == (
        FieldChange("default", True, False),
        FieldChange("description", "Undergrad", "Undergraduate"),
    )


def test_no_default_in_yaml_leaves_alma_default_alone() -> None:
    """A file that marks no default does not move Alma's default."""
    assert diff_institution(desired([KeptGroup("01", "Undergraduate"), GUEST]), live(ROWS)) == ()


def test_retiring_a_group_with_users_moves_verifies_unmaps_and_disables() -> None:
    """Retirement runs move → verify → remove mapping → disable, with counts and fingerprint."""
    retired = RetiredGroup("15", "Autologin", "No one uses it any more.", move_users_to="GUEST")
    rows = (*ROWS, LiveGroup("15", "Autologin"))
    changes = diff_institution(
        desired([U, GUEST], [retired]),
        live(rows, census={"15": breakdown(42)}, mappings=[("PUBLIC", "15")]),
    )
    assert actions(changes) == [
        ("move_users", "15"),
        ("verify_empty", "15"),
        ("remove_mapping", "15"),
        ("disable_group", "15"),
    ]
    move = changes[0]
    assert (move.users, move.target, move.member_fingerprint) == (42, "GUEST", "fp-15-42")


def test_purge_takes_purgeable_users_and_moves_the_rest() -> None:
    """With purge on, purgeable users are purged and only the others are moved."""
    retired = RetiredGroup(
        "69", "UBorrow", "UBorrow ended in 2023.", move_users_to="GUEST", purge_inactive_users=True
    )
    changes = diff_institution(
        desired([U, GUEST], [retired]),
        live(
            (*ROWS, LiveGroup("69", "UBorrow")),
            census={"69": breakdown(10, inactive=8, purgeable=6)},
        ),
    )
    by_action = {c.action: c for c in changes}
    assert by_action[Action.MOVE_USERS].users == 4
    assert by_action[Action.PURGE_USERS].users == 6
    assert by_action[Action.PURGE_USERS].blocked == (("loans", 2),)


def test_delete_row_waits_for_a_disabled_empty_row() -> None:
    """delete_row deletes only a row an earlier apply already disabled (phase 2)."""
    retired = RetiredGroup("99", "Mango", "Mango catalogue retired.", delete_row=True)
    enabled = diff_institution(
        desired([U, GUEST], [retired]), live((*ROWS, LiveGroup("99", "Mango")), {"99": 0})
    )
    assert actions(enabled) == [("verify_empty", "99"), ("disable_group", "99")]
    disabled = diff_institution(
        desired([U, GUEST], [retired]), live((*ROWS, LiveGroup("99", "Mango", False)), {"99": 0})
    )
    assert actions(disabled) == [("verify_empty", "99"), ("delete_group", "99")]


def test_retired_group_already_gone_or_done_needs_nothing() -> None:
    """A retired group absent from Alma, or disabled and empty, produces no change."""
    retired = RetiredGroup("99", "Mango", "Mango catalogue retired.")
    assert diff_institution(desired([U, GUEST], [retired]), live(ROWS)) == ()
    done = live((*ROWS, LiveGroup("99", "Mango", False)), {"99": 0})
    assert diff_institution(desired([U, GUEST], [retired]), done) == ()


def test_group_without_target_gets_no_move() -> None:
    """Without move_users_to there is no move change (a safety rule reports it instead)."""
    retired = RetiredGroup("99", "Mango", "Mango catalogue retired.")
    changes = diff_institution(
        desired([U, GUEST], [retired]), live((*ROWS, LiveGroup("99", "Mango")), {"99": 3})
    )
    assert Action.MOVE_USERS not in {c.action for c in changes}
