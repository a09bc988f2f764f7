"""Drift causes: patron load, reconciler run, staff edit or unknown, each with its evidence."""

from __future__ import annotations

from datetime import date, datetime

from reconciler.model.changes import Action
from reconciler.model.history import PatronLoadFile, PatronLoadHistory
from reconciler.model.live import LiveGroup, LiveState
from reconciler.model.plan import Rule
from reconciler.planning.drift import (
    AppliedRun,
    Cause,
    Difference,
    DriftFacts,
    classify,
)
from reconciler.render.drift_markdown import render_drift_markdown
from reconciler.render.drift_text import render_drift_text

TODAY = date(2026, 12, 1)
APPLIED = AppliedRun(
    "ucf",
    "r1",
    datetime(2026, 11, 20, 10, 0),
    datetime(2026, 11, 20, 10, 5),
    frozenset({"15"}),
)


def _live(last_sis_run: datetime | None = None) -> LiveState:
    return LiveState("ucf", (LiveGroup("15", "Autologin"),), last_sis_run=last_sis_run)


def _history(*files: tuple[date, int]) -> PatronLoadHistory:
    return PatronLoadHistory(
        "ucf",
        tuple(
            PatronLoadFile(
                f"load-{day}.xml", f"{index:064x}", day, 10, ("PATRON",), users, (("15", users),)
            )
            for index, (day, users) in enumerate(files)
        ),
    )


def _facts(**changes: object) -> DriftFacts:
    values: dict[str, object] = {
        "live": _live(),
        "history": _history(),
        "runs": (APPLIED,),
        "lookback_days": 400,
        "today": TODAY,
    }
    values.update(changes)
    return DriftFacts(**values)  # type: ignore[arg-type]


USERS_BACK = Difference(Action.MOVE_USERS, "15", 'move 3 users from "15" to "GUEST"')
ROW_ENABLED = Difference(Action.DISABLE_GROUP, "15", 'disable group "15"')


def test_users_back_after_a_load_that_assigns_the_group() -> None:
    """A load file dated after the apply that assigns the group: cause patron load."""
    facts = _facts(history=_history((date(2026, 11, 25), 3)))
    (item,) = classify("ucf", [USERS_BACK], facts).items
    assert item.cause is Cause.PATRON_LOAD
    assert "2026-11-25" in item.evidence


def test_a_load_before_the_apply_does_not_explain_drift() -> None:
    """Loads older than the finished apply are not the cause: users joined later by hand."""
    facts = _facts(history=_history((date(2026, 11, 1), 3)))
    (item,) = classify("ucf", [USERS_BACK], facts).items
    assert item.cause is Cause.STAFF_EDIT


def test_an_sis_run_not_yet_ingested_is_named_as_weaker_evidence() -> None:
    """An SIS job after the apply whose files are not ingested: patron load, say to ingest."""
    facts = _facts(live=_live(last_sis_run=datetime(2026, 11, 30, 2, 0)))
    (item,) = classify("ucf", [USERS_BACK], facts).items
    assert item.cause is Cause.PATRON_LOAD
    assert "ingest" in item.evidence


def test_a_re_enabled_row_after_a_finished_apply_is_a_staff_edit() -> None:
    """Loads never edit code tables, so a row unlike what apply set is a staff edit."""
    (item,) = classify("ucf", [ROW_ENABLED], _facts()).items
    assert item.cause is Cause.STAFF_EDIT
    assert "r1" in item.evidence


def test_an_unfinished_apply_is_the_cause() -> None:
    """A journal that never finished explains every difference of its groups."""
    crashed = AppliedRun("ucf", "r2", datetime(2026, 11, 21), None, frozenset({"15"}))
    items = classify("ucf", [USERS_BACK, ROW_ENABLED], _facts(runs=(APPLIED, crashed))).items
    assert {i.cause for i in items} == {Cause.RECONCILER_RUN}


def test_nothing_to_go_on_is_unknown() -> None:
    """No journal and no load: unknown, never a guess."""
    (item,) = classify("ucf", [ROW_ENABLED], _facts(runs=())).items
    assert item.cause is Cause.UNKNOWN


def test_an_unmanaged_row_is_a_staff_edit() -> None:
    """A group row that git does not list was created in Alma by hand."""
    difference = Difference(Rule.UNMANAGED_GROUP, "NEW", "group NEW is not in git")
    (item,) = classify("ucf", [difference], _facts()).items
    assert item.cause is Cause.STAFF_EDIT


def test_renderers_list_causes_and_say_when_clean() -> None:
    """Text and Markdown name each cause; a clean consortium says so."""
    report = [classify("ucf", [ROW_ENABLED], _facts()), classify("fiu", [], _facts())]
    text = render_drift_text(report)
    markdown = render_drift_markdown(report)
    assert "likely cause: staff edit" in text
    assert "fiu: no drift" in text
    assert "**staff edit**" in markdown
    assert "1 of 2 institution(s)" in markdown
    assert "matches main" in render_drift_markdown([classify("fiu", [], _facts())])
