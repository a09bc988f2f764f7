"""When Alma last ran a patron load (an SIS job), to tell whether the ingested history is stale.

Design decisions (reference/alma-api.md §5-6; the category is unverified):
- First `GET /conf/jobs?type=SCHEDULED&category=SIS`. That category name has not been seen in
  a real institution's answer, so when the call fails, or finds no job, the SIS jobs are found
  the documented way instead: the USER integration profiles, then
  `GET /conf/jobs?type=SCHEDULED&profile_id=…` for each.
- Neither way is fatal: a failure becomes a warning the plan shows, and the run goes on with
  no last run known (the staleness rule then judges the history by its own dates). Only Alma's
  daily limit and a refused key stop the read, as they stop every other read.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime

from reconciler.alma import AlmaClient
from reconciler.alma.normalise import as_timestamp
from reconciler.alma.payloads import Job
from reconciler.errors import AlmaApiError, AlmaAuthError, AlmaDailyLimitError

SIS_CATEGORY = "SIS"  # unverified: see the module docstring
SIS_PROFILE_TYPE = "USER"


@dataclass(frozen=True)
class LastRun:
    """The newest SIS run found (None: none, or none could be read) and what went wrong."""

    newest: datetime | None
    warnings: tuple[str, ...] = ()


def last_patron_load_run(client: AlmaClient, since: date) -> LastRun:
    """The newest run of any SIS (patron load) job submitted on or after `since`, if any."""
    warnings: list[str] = []
    jobs: list[Job] = []
    try:
        jobs = list(client.iter_jobs(job_type="SCHEDULED", category=SIS_CATEGORY))
    except (AlmaDailyLimitError, AlmaAuthError):
        raise
    except AlmaApiError as error:
        warnings.append(
            f"could not list SIS jobs by category {SIS_CATEGORY!r} ({error}); "
            f"used the jobs of the {SIS_PROFILE_TYPE} integration profiles instead"
        )
    try:
        if not jobs:
            jobs = list(jobs_of_user_profiles(client))
        return LastRun(_newest_run(client, jobs, since), tuple(warnings))
    except (AlmaDailyLimitError, AlmaAuthError):
        raise
    except AlmaApiError as error:
        warnings.append(
            f"could not read when Alma last ran a patron load ({error}); the patron-load "
            "history is judged by its own dates"
        )
        return LastRun(None, tuple(warnings))


def jobs_of_user_profiles(client: AlmaClient) -> Iterator[Job]:
    """The scheduled jobs of every USER (SIS) integration profile, each job once."""
    seen: set[str] = set()
    for profile in client.iter_integration_profiles(SIS_PROFILE_TYPE):
        profile_id = str(profile.get("id", ""))
        if not profile_id:
            continue
        for job in client.iter_jobs(job_type="SCHEDULED", profile_id=profile_id):
            job_id = str(job.get("id", ""))
            if job_id and job_id not in seen:
                seen.add(job_id)
                yield job


def _newest_run(client: AlmaClient, jobs: list[Job], since: date) -> datetime | None:
    newest: datetime | None = None
    for job in jobs:
        job_id = str(job.get("id", ""))
        if not job_id:
            continue
        for instance in client.iter_job_instances(job_id, submit_date_from=since):
            started = as_timestamp(instance.get("start_time") or instance.get("submit_time"))
            if started is not None:
                started = started if started.tzinfo else started.replace(tzinfo=UTC)
                newest = started if newest is None or started > newest else newest
    return newest
