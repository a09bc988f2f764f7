"""Is the patron-load history recent enough to trust? A pure judgement, no I/O.

The history is only as good as the last file someone ingested. If Alma's SIS job has run since
(the caller reads its newest run from the jobs API), a load happened that the history has not
seen, and "group X no longer arrives in loads" may be false. The safety rules turn a verdict
other than FRESH into a plan violation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum

from reconciler.model.history import PatronLoadHistory


class Staleness(StrEnum):
    FRESH = "fresh"
    STALE = "stale"
    MISSING = "missing"


@dataclass(frozen=True)
class StaleVerdict:
    """The verdict, the two dates it compared, and a sentence saying why and what to do."""

    status: Staleness
    newest_file_date: date | None
    last_sis_run: datetime | None
    reason: str

    @property
    def ok(self) -> bool:
        return self.status is Staleness.FRESH


def is_stale(history: PatronLoadHistory | None, last_sis_run: datetime | None) -> StaleVerdict:
    """Judge the history against the newest SIS job run (None when Alma reports no run).

    MISSING: nothing has been ingested. STALE: the newest run falls on a later calendar day
    than the newest ingested file. Dates are compared in UTC (a naive `last_sis_run` is taken
    as UTC); a file and a run on the same day count as the same load, because file dates have
    day precision only.
    """
    newest = history.newest_file_date() if history is not None else None
    if newest is None:
        return StaleVerdict(
            Staleness.MISSING,
            None,
            last_sis_run,
            "no patron-load file has been ingested: run `alma-groups patron-loads ingest`",
        )
    if last_sis_run is None:
        return StaleVerdict(
            Staleness.FRESH, newest, None, f"newest load file {newest}; Alma reports no SIS run"
        )
    run_day = _utc_day(last_sis_run)
    if run_day > newest:
        return StaleVerdict(
            Staleness.STALE,
            newest,
            last_sis_run,
            f"the SIS job last ran on {run_day} but the newest ingested load file is from "
            f"{newest}: ingest the newer file(s)",
        )
    return StaleVerdict(
        Staleness.FRESH,
        newest,
        last_sis_run,
        f"newest load file {newest}; last SIS run {run_day}",
    )


def _utc_day(moment: datetime) -> date:
    if moment.tzinfo is None:
        return moment.date()
    return moment.astimezone(UTC).date()
