"""Properties over generated desired/live pairs: determinism, order, safety and convergence."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.model import InstitutionState, KeptGroup, RetiredGroup
from reconciler.model.changes import Action
from reconciler.model.live import LiveGroup, LiveState, UserBreakdown
from reconciler.planning.diff import diff_institution

from .builders import apply_in_memory, desired, live

CODES = ["01", "02", "03", "15", "69", "99", "GUEST", "ILL", "SUB", "LOST"]


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[InstitutionState, LiveState]:
    codes = draw(st.lists(st.sampled_from(CODES), min_size=1, max_size=8, unique=True))
    split = draw(st.integers(1, len(codes)))
    kept_codes, retired_codes = codes[:split], codes[split:]
    default = draw(st.sampled_from([None, *kept_codes]))
    kept = [
        KeptGroup(code, draw(st.sampled_from(["A", "B", " A "])).strip(), code == default)
        for code in kept_codes
    ]
    retired = [
        RetiredGroup(
            code,
            "old",
            "retired for the test",
            move_users_to=draw(st.sampled_from(kept_codes)),
            purge_inactive_users=draw(st.booleans()),
            delete_row=draw(st.booleans()),
        )
        for code in retired_codes
    ]
    live_codes = draw(st.lists(st.sampled_from(codes), unique=True))
    live_default = draw(st.sampled_from([None, *live_codes]))
    rows = [
        LiveGroup(
            code,
            draw(st.sampled_from(["A", "B", "A  "])),
            draw(st.booleans()),
            code == live_default,
        )
        for code in live_codes
    ]
    census = {}
    for code in retired_codes:
        total = draw(st.integers(0, 50))
        inactive = draw(st.integers(0, total))
        purgeable = draw(st.integers(0, inactive))
        census[code] = UserBreakdown(
            total=total,
            inactive=inactive,
            purge_candidates=inactive,
            purgeable=purgeable,
            blocked_by_loans=inactive - purgeable,
        )
    mappings = [
        (rt, code)
        for code in live_codes
        for rt in draw(st.sets(st.sampled_from(["PUBLIC", "STAFF"])))
    ]
    return desired(kept, retired), live(rows, census=census, mappings=mappings)


@settings(max_examples=300, deadline=None)
@given(scenarios())
def test_plan_is_deterministic_and_ordered(scenario: tuple[InstitutionState, LiveState]) -> None:
    """The same inputs give the same changes, sorted by apply order."""
    state, live_state = scenario
    first = diff_institution(state, live_state)
    assert first == diff_institution(state, live_state)
    orders = [change.action.order for change in first]
    assert orders == sorted(orders)


@settings(max_examples=300, deadline=None)
@given(scenarios())
def test_moves_never_target_a_retired_group(scenario: tuple[InstitutionState, LiveState]) -> None:
    """Every move goes to a kept group, and only from a retired one."""
    state, live_state = scenario
    for change in diff_institution(state, live_state):
        if change.action is Action.MOVE_USERS:
            assert change.target in state.user_groups.kept_codes()
            assert change.code in state.user_groups.retired_codes()


@settings(max_examples=300, deadline=None)
@given(scenarios())
def test_applying_then_planning_again_converges(
    scenario: tuple[InstitutionState, LiveState],
) -> None:
    """After applying the plan (twice when a row waits for phase-2 deletion) nothing is left."""
    state, live_state = scenario
    for _ in range(2):  # phase 1 disables; phase 2 deletes rows that asked for it
        live_state = apply_in_memory(live_state, diff_institution(state, live_state))
    assert diff_institution(state, live_state) == ()
