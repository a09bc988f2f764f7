"""One error tree for the whole tool.

Every failure a user can meet is a `ReconcilerError`; the CLI maps the tree to a one-line
message, and `reconciler.runs.outcomes` maps it to an exit code, each in one place.
Transport libraries' exceptions (requests, yaml, jsonschema) never escape the module that
uses them: they are wrapped here, with the cause chained, so callers depend on our names only.
"""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.model import Problem


class ReconcilerError(Exception):
    """Base of every error the tool reports to a user."""


class ConfigError(ReconcilerError):
    """The desired state in git is invalid; carries every problem found, not just the first."""

    def __init__(self, problems: tuple[Problem, ...]) -> None:
        self.problems = tuple(sorted(problems))
        count = len(self.problems)
        first = str(self.problems[0]) if self.problems else "no details"
        suffix = f" (and {count - 1} more)" if count > 1 else ""
        super().__init__(f"{first}{suffix}")


class AnalyticsAccessError(ReconcilerError):
    """An institution's key cannot read the Analytics report its institution.yaml names."""


class UsageError(ReconcilerError):
    """A command was called with arguments that cannot work (a missing path, an unknown slug)."""


@dataclass(frozen=True)
class AlmaCall:
    """What we asked Alma: enough to find the call in a log, never the API key."""

    method: str
    path: str

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


class AlmaApiError(ReconcilerError):
    """An Alma API call failed; names the call, Alma's error code and its trackingId."""

    retryable = False

    def __init__(
        self,
        call: AlmaCall,
        *,
        status: int | None,
        alma_code: str = "",
        alma_message: str = "",
        tracking_id: str = "",
    ) -> None:
        self.call = call
        self.status = status
        self.alma_code = alma_code
        self.alma_message = alma_message
        self.tracking_id = tracking_id
        super().__init__(self._describe())

    def _describe(self) -> str:
        parts = [f"{self.call} failed"]
        if self.status is not None:
            parts.append(f"HTTP {self.status}")
        if self.alma_code:
            parts.append(f"Alma error {self.alma_code}")
        text = ", ".join(parts)
        if self.alma_message:
            text += f": {self.alma_message}"
        if self.tracking_id:
            text += f" (trackingId {self.tracking_id})"
        return text


class AlmaNotFoundError(AlmaApiError):
    """The record does not exist (Alma says so with HTTP 400 and 401861/401890, or a 404)."""


class AlmaAuthError(AlmaApiError):
    """The API key is missing, invalid, or lacks the area or permission for this call."""


class AlmaPerSecondLimitError(AlmaApiError):
    """429 PER_SECOND_THRESHOLD: too fast; safe to retry after slowing down."""

    retryable = True


class AlmaDailyLimitError(AlmaApiError):
    """429 DAILY_THRESHOLD: the day's allowance is spent; never retried."""


class AlmaConflictError(AlmaApiError):
    """Alma refused the change because of the record's state (e.g. a user with loans)."""


class AlmaJobLimitError(AlmaConflictError):
    """402222/402223: Alma runs at most 3 API-started jobs at once and a job 5 times an hour."""

    def _describe(self) -> str:
        return (
            "Alma refused to start the job: at most 3 API-started jobs may run at once and one "
            "job at most 5 times an hour; wait, then run apply again (or lower the number of bulk "
            f"moves) — {super()._describe()}"
        )


class AlmaJobTemplateError(AlmaApiError):
    """402228/402229: the institution's job template lacks a mandatory parameter or its value."""

    def __init__(self, cause: AlmaApiError, *, template_file: str, parameter: str) -> None:
        self.template_file = template_file
        self.parameter = parameter
        super().__init__(
            cause.call,
            status=cause.status,
            alma_code=cause.alma_code,
            alma_message=cause.alma_message,
            tracking_id=cause.tracking_id,
        )

    def _describe(self) -> str:
        lacks = "leaves empty" if self.alma_code == "402229" else "lacks"
        return (
            f"{self.template_file}: the job template {lacks} the mandatory parameter "
            f"{self.parameter}; copy the whole payload again from Alma's Run-a-Job wizard "
            f"(API-information step) — {super()._describe()}"
        )


class AlmaServerError(AlmaApiError):
    """Alma answered 5xx; retried on calls that are safe to repeat."""

    retryable = True


class AlmaUnexpectedBodyError(AlmaApiError):
    """Alma answered with a body we cannot read (HTML page, truncated JSON, wrong shape)."""


class AlmaNetworkError(AlmaApiError):
    """No answer: connection refused or dropped, DNS failure, or a timeout."""

    retryable = True


class PatronLoadFileError(ReconcilerError):
    """A SIS patron-load file cannot be read; names the file and, for XML, line and column."""


class UnsafePlanError(ReconcilerError):
    """The plan breaks a safety rule; apply refuses it (exit 3)."""


class PlanFileError(ReconcilerError):
    """A saved plan is damaged or was edited (unreadable, bad checksum, malformed): investigate.

    Never a reason to plan again and carry on: a plan that changed after review is a finding.
    """


class StalePlanError(ReconcilerError):
    """A saved plan no longer matches what it was made from: plan again.

    Alma or the YAML changed since planning (fingerprints, desired-state hash), or the plan
    was made by another version of alma-groups (format version).
    """


class BulkMoveError(ReconcilerError):
    """A bulk move could not start or finish: the job is not found, or its run did not end."""


class JournalError(ReconcilerError):
    """An apply journal is unreadable or belongs to another plan."""


class GitHubApiError(ReconcilerError):
    """A GitHub REST call failed: the call, the status and GitHub's message (never the token)."""

    def __init__(self, method: str, path: str, status: int | None, message: str) -> None:
        self.method = method
        self.path = path
        self.status = status
        status_text = f"HTTP {status}" if status is not None else "no answer"
        super().__init__(f"GitHub {method} {path} failed, {status_text}: {message}")


class ApplyRefusedError(UnsafePlanError):
    """apply will not start: the plan is unsafe, edited, stale, too old or over budget."""


class LockHeldError(ApplyRefusedError):
    """Another apply holds the institution's lock (in Alma); names its owner and expiry."""

    def __init__(self, message: str, *, holder_run: str = "") -> None:
        super().__init__(message)
        self.holder_run = holder_run  # the run id in the lock, when it could be read


class LockLostError(ReconcilerError):
    """This run's apply lock was taken over (broken, or expired while the run stalled): the run
    stops before its next write; names the new holder."""


class TableWriteError(ReconcilerError):
    """Alma refused a code- or mapping-table write; names the table, the row and Alma's code."""
