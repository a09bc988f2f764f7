"""What became of each institution, and the one function that turns that into an exit code.

Design decision: commands do not pick exit codes themselves. Each institution ends in an
`InstitutionOutcome`, an error that reaches the CLI is mapped to one by `outcome_of_error`,
and `exit_code` decides for the whole run, so plan, survey, import, validate and apply can
never disagree about what 1, 2 or 3 means (README, "Exit codes"):

    0  ok: read, nothing to change, or applied
    1  error: a failed read or apply, a partial apply, a stale or damaged plan
    2  changes pending (only when asked for, with --detailed-exitcode)
    3  refused: the plan breaks a safety rule

The most serious outcome wins, in that order: an error, then a refusal, then changes.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum, StrEnum

from reconciler.errors import ReconcilerError, StalePlanError, UnsafePlanError
from reconciler.model.plan import InstitutionPlan


class ExitCode(IntEnum):
    OK = 0
    ERROR = 1
    CHANGES = 2
    REFUSED = 3


class InstitutionOutcome(StrEnum):
    """How one institution's part of a run ended."""

    OK = "ok"  # read (survey, import) or valid (validate)
    NO_CHANGES = "no-changes"  # planned: Alma already matches the YAML
    CHANGES = "changes"  # planned: changes pending
    REFUSED = "refused"  # the plan breaks a safety rule; apply refuses it
    APPLIED = "applied"  # every change of the plan succeeded
    PARTIAL = "partial"  # apply stopped partway; what succeeded is journaled
    STALE = "stale"  # Alma or the YAML changed since planning: plan again
    FAILED = "failed"  # could not be read or applied (or a damaged plan)


_EXIT = {
    InstitutionOutcome.OK: ExitCode.OK,
    InstitutionOutcome.NO_CHANGES: ExitCode.OK,
    InstitutionOutcome.APPLIED: ExitCode.OK,
    InstitutionOutcome.CHANGES: ExitCode.CHANGES,
    InstitutionOutcome.REFUSED: ExitCode.REFUSED,
    InstitutionOutcome.PARTIAL: ExitCode.ERROR,
    InstitutionOutcome.STALE: ExitCode.ERROR,
    InstitutionOutcome.FAILED: ExitCode.ERROR,
}
_SEVERITY = (ExitCode.OK, ExitCode.CHANGES, ExitCode.REFUSED, ExitCode.ERROR)


def exit_code(
    outcomes: Iterable[InstitutionOutcome], *, detailed_exitcode: bool = False
) -> ExitCode:
    """The run's exit code: the most serious outcome's; pending changes are 2 only if asked."""
    codes = {_EXIT[outcome] for outcome in outcomes}
    if not detailed_exitcode:
        codes.discard(ExitCode.CHANGES)
    return max(codes, key=_SEVERITY.index, default=ExitCode.OK)


def outcome_of_error(error: ReconcilerError) -> InstitutionOutcome:
    """The outcome an error stands for: a refusal, a stale plan, or a failure."""
    if isinstance(error, UnsafePlanError):
        return InstitutionOutcome.REFUSED
    if isinstance(error, StalePlanError):
        return InstitutionOutcome.STALE
    return InstitutionOutcome.FAILED


def outcome_of_plan(plan: InstitutionPlan) -> InstitutionOutcome:
    """A planned institution: refused when it breaks a rule, else changes or none."""
    if plan.violations:
        return InstitutionOutcome.REFUSED
    return InstitutionOutcome.CHANGES if plan.has_changes else InstitutionOutcome.NO_CHANGES
