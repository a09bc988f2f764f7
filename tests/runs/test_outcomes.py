"""Exit codes: one function decides them from each institution's outcome."""

from __future__ import annotations

import pytest

from reconciler.errors import (
    AlmaCall,
    AlmaServerError,
    ConfigError,
    PlanFileError,
    StalePlanError,
    UnsafePlanError,
)
from reconciler.model.changes import VerifyEmpty
from reconciler.model.plan import InstitutionPlan, Rule, Violation
from reconciler.runs.outcomes import (
    ExitCode,
    InstitutionOutcome,
    exit_code,
    outcome_of_error,
    outcome_of_plan,
)

Out = InstitutionOutcome


@pytest.mark.parametrize(
    ("outcomes", "detailed", "code"),
    [
        ([], False, ExitCode.OK),
        ([Out.OK, Out.NO_CHANGES, Out.APPLIED], True, ExitCode.OK),
        ([Out.NO_CHANGES, Out.CHANGES], False, ExitCode.OK),
        ([Out.NO_CHANGES, Out.CHANGES], True, ExitCode.CHANGES),
        ([Out.CHANGES, Out.REFUSED], True, ExitCode.REFUSED),
        ([Out.REFUSED, Out.FAILED], True, ExitCode.ERROR),
        ([Out.APPLIED, Out.PARTIAL], False, ExitCode.ERROR),
        ([Out.APPLIED, Out.STALE], False, ExitCode.ERROR),
    ],
)
def test_the_most_serious_outcome_decides(
    outcomes: list[InstitutionOutcome], detailed: bool, code: ExitCode
) -> None:
    """Error beats refusal beats pending changes; changes count only with --detailed-exitcode."""
    assert exit_code(outcomes, detailed_exitcode=detailed) is code


def test_exit_codes_are_the_documented_numbers() -> None:
    """0 ok, 1 error, 2 changes pending, 3 refused by safety (README, "Exit codes")."""
    assert [int(code) for code in ExitCode] == [0, 1, 2, 3]


def test_errors_stand_for_refused_stale_or_failed() -> None:
    """A safety refusal is 3, a stale plan means plan again, anything else failed."""
    assert outcome_of_error(UnsafePlanError("rules broken")) is Out.REFUSED
    assert outcome_of_error(StalePlanError("Alma changed")) is Out.STALE
    assert outcome_of_error(PlanFileError("checksum")) is Out.FAILED
    assert outcome_of_error(ConfigError(())) is Out.FAILED
    assert outcome_of_error(AlmaServerError(AlmaCall("GET", "/users"), status=503)) is Out.FAILED
    assert exit_code([outcome_of_error(UnsafePlanError("rules broken"))]) is ExitCode.REFUSED


def test_a_planned_institution_is_refused_changed_or_unchanged() -> None:
    """Violations refuse a plan; otherwise it has changes or none."""
    step = (VerifyEmpty("15", "retired"),)
    broken = (Violation(Rule.API_BUDGET, None, "too many calls", "apply tomorrow"),)
    assert outcome_of_plan(InstitutionPlan("a", (), (), 0, "fp")) is Out.NO_CHANGES
    assert outcome_of_plan(InstitutionPlan("a", step, (), 2, "fp")) is Out.CHANGES
    assert outcome_of_plan(InstitutionPlan("a", step, broken, 2, "fp")) is Out.REFUSED
