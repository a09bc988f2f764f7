"""The desired-state hash covers the job template: a saved plan must not outlive a change to it."""

from __future__ import annotations

import dataclasses

from reconciler.model import (
    DesiredState,
    JobParameter,
    KeptGroup,
    RetiredGroup,
    SourceLocation,
    UpdateUsersJobTemplate,
)
from reconciler.planning.plan import desired_hash

from .builders import desired

STATE = desired(
    [KeptGroup("01", "Undergraduate", True), KeptGroup("GUEST", "Guest")],
    [RetiredGroup("15", "Autologin", "Nobody logs in this way.", move_users_to="GUEST")],
)
TEMPLATE = UpdateUsersJobTemplate(
    "Update/Notify Users",
    (JobParameter("set_id", "1", filled_by_tool=True), JobParameter("PRODUCT", "alma")),
)


def _hash(template: UpdateUsersJobTemplate | None) -> str:
    return desired_hash(DesiredState((dataclasses.replace(STATE, update_users_job=template),)))


def test_adding_or_editing_the_template_changes_the_hash() -> None:
    """No template, a template, and one with another value hash three different ways."""
    edited = dataclasses.replace(
        TEMPLATE, parameters=(TEMPLATE.parameters[0], JobParameter("PRODUCT", "primo"))
    )
    assert len({_hash(None), _hash(TEMPLATE), _hash(edited)}) == 3


def test_reformatting_the_template_keeps_the_hash() -> None:
    """Parameters written on other lines (locations differ) hash the same."""
    moved = dataclasses.replace(
        TEMPLATE,
        location=SourceLocation("x.json", 3, 1),
        parameters=tuple(
            dataclasses.replace(p, location=SourceLocation("x.json", 9 + i, 5))
            for i, p in enumerate(TEMPLATE.parameters)
        ),
    )
    assert _hash(moved) == _hash(TEMPLATE)
