"""Sets and jobs: the bulk path that moves thousands of users without one PUT each.

Design decision: `add_set_members` splits the ids into calls of at most 1000 (Alma's limit,
error 60118 above it) and none of these POSTs is retried automatically, since a repeated add
would fail on "already a member"; a failed chunk's error gets a note saying how many ids were
added before it, and the caller re-reads the set (or re-counts the group) to carry on.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, cast

from reconciler.alma.normalise import code_of, desc_of
from reconciler.alma.paging import iter_records
from reconciler.alma.payloads import AlmaSet, Job, JobEvent, JobInstance
from reconciler.alma.requesting import Requester
from reconciler.errors import AlmaApiError, AlmaUnexpectedBodyError

SETS = "/conf/sets"
SET = "/conf/sets/{set_id}"
SET_MEMBERS = "/conf/sets/{set_id}/members"
JOBS = "/conf/jobs"
JOB = "/conf/jobs/{job_id}"
JOB_INSTANCES = "/conf/jobs/{job_id}/instances"
JOB_INSTANCE = "/conf/jobs/{job_id}/instances/{instance_id}"
JOB_EVENTS = "/conf/jobs/{job_id}/instances/{instance_id}/events"
MAX_SET_MEMBERS_PER_CALL = 1000


@dataclass(frozen=True)
class JobRun:
    """A submitted job: its id, the new instance to poll, and Alma's "Job no. N triggered" note."""

    job_id: str
    instance_id: str
    message: str
    job: Job


class SetAndJobEndpoints:
    """Sets and Jobs areas of the API; mixed into `AlmaClient`."""

    _requester: Requester

    def create_set(
        self, name: str, *, description: str = "", content: str = "USER", private: bool = True
    ) -> AlmaSet:
        """POST /conf/sets: an empty itemized set; returns it with Alma's new `id`."""
        body: AlmaSet = {
            "name": name,
            "description": description,
            "type": {"value": "ITEMIZED"},
            "content": {"value": content},
            "private": {"value": "true" if private else "false"},
        }
        reply = self._requester.call("POST", SETS, json_body=body)
        created = reply.json_object()
        if not created.get("id"):
            raise AlmaUnexpectedBodyError(
                reply.call, status=reply.status, alma_message="the new set has no id"
            )
        return cast(AlmaSet, created)

    def get_set(self, set_id: str) -> AlmaSet:
        reply = self._requester.call("GET", SET, path_values={"set_id": set_id})
        return cast(AlmaSet, reply.json_object())

    def add_set_members(
        self,
        set_id: str,
        member_ids: Sequence[str],
        *,
        chunk_size: int = MAX_SET_MEMBERS_PER_CALL,
        id_type: str | None = None,
        fail_on_invalid_id: bool = True,
    ) -> int:
        """Add `member_ids` in calls of at most `chunk_size`; returns the number of calls made."""
        if not 1 <= chunk_size <= MAX_SET_MEMBERS_PER_CALL:
            raise ValueError(f"chunk_size must be between 1 and {MAX_SET_MEMBERS_PER_CALL}")
        calls = 0
        for start in range(0, len(member_ids), chunk_size):
            chunk = member_ids[start : start + chunk_size]
            body = {"members": {"member": [{"id": member_id} for member_id in chunk]}}
            try:
                self._requester.call(
                    "POST",
                    SET,
                    path_values={"set_id": set_id},
                    params={
                        "op": "add_members",
                        "id_type": id_type,
                        "fail_on_invalid_id": fail_on_invalid_id,
                    },
                    json_body=body,
                )
            except AlmaApiError as error:
                error.add_note(
                    f"{start} of {len(member_ids)} ids were added to set {set_id} before this call"
                )
                raise
            calls += 1
        return calls

    def iter_set_members(self, set_id: str) -> Iterator[str]:
        """GET /conf/sets/{set_id}/members: the members' ids, 100 per call."""

        def fetch(limit: int, offset: int) -> Mapping[str, Any]:
            return self._requester.call(
                "GET",
                SET_MEMBERS,
                path_values={"set_id": set_id},
                params={"limit": limit, "offset": offset},
            ).json_object()

        for record in iter_records(fetch, "member"):
            yield str(record.get("id", ""))

    def iter_sets(self, *, content_type: str = "USER", q: str | None = None) -> Iterator[AlmaSet]:
        """GET /conf/sets of one content type (itemized and logical), 100 per call."""

        def fetch(limit: int, offset: int) -> Mapping[str, Any]:
            return self._requester.call(
                "GET",
                SETS,
                params={"content_type": content_type, "q": q, "limit": limit, "offset": offset},
            ).json_object()

        for record in iter_records(fetch, "set"):
            yield cast(AlmaSet, record)

    def delete_set(self, set_id: str) -> None:
        """DELETE /conf/sets/{set_id}; safe to repeat, so marked idempotent for retries."""
        self._requester.call("DELETE", SET, path_values={"set_id": set_id}, idempotent=True)

    def iter_jobs(
        self,
        job_type: str = "MANUAL",
        *,
        category: str | None = None,
        profile_id: str | None = None,
    ) -> Iterator[Job]:
        """GET /conf/jobs of one type (MANUAL, SCHEDULED, OTHER), 100 per call."""

        def fetch(limit: int, offset: int) -> Mapping[str, Any]:
            return self._requester.call(
                "GET",
                JOBS,
                params={
                    "type": job_type,
                    "category": category,
                    "profile_id": profile_id,
                    "limit": limit,
                    "offset": offset,
                },
            ).json_object()

        for record in iter_records(fetch, "job"):
            yield cast(Job, record)

    def run_job(self, job_id: str, parameters: Mapping[str, str]) -> JobRun:
        """POST /conf/jobs/{job_id}?op=run with name → value parameters; never retried."""
        body = {
            "parameter": [
                {"name": {"value": name}, "value": value} for name, value in parameters.items()
            ]
        }
        reply = self._requester.call(
            "POST", JOB, path_values={"job_id": job_id}, params={"op": "run"}, json_body=body
        )
        job = reply.json_object()
        info = job.get("additional_info")
        link = str(info.get("link", "")) if isinstance(info, dict) else ""
        instance_id = link.rstrip("/").rsplit("/", 1)[-1] if "/instances/" in link else ""
        return JobRun(
            job_id=job_id,
            instance_id=instance_id,
            message=desc_of(info) or code_of(info),
            job=cast(Job, job),
        )

    def get_job_instance(self, job_id: str, instance_id: str) -> JobInstance:
        """GET one run of a job: status, progress, counters, alerts."""
        reply = self._requester.call(
            "GET", JOB_INSTANCE, path_values={"job_id": job_id, "instance_id": instance_id}
        )
        return cast(JobInstance, reply.json_object())

    def iter_job_instances(
        self,
        job_id: str,
        *,
        submit_date_from: date | None = None,
        submit_date_to: date | None = None,
        status: str | None = None,
    ) -> Iterator[JobInstance]:
        """Runs of a job, newest first as Alma sends them, 100 per call."""

        def fetch(limit: int, offset: int) -> Mapping[str, Any]:
            return self._requester.call(
                "GET",
                JOB_INSTANCES,
                path_values={"job_id": job_id},
                params={
                    "submit_date_from": submit_date_from.isoformat() if submit_date_from else None,
                    "submit_date_to": submit_date_to.isoformat() if submit_date_to else None,
                    "status": status,
                    "limit": limit,
                    "offset": offset,
                },
            ).json_object()

        for record in iter_records(fetch, "job_instance"):
            yield cast(JobInstance, record)

    def iter_job_events(self, job_id: str, instance_id: str) -> Iterator[JobEvent]:
        """Rejected entries of a SIS job run (Alma answers 60332 for other jobs)."""

        def fetch(limit: int, offset: int) -> Mapping[str, Any]:
            return self._requester.call(
                "GET",
                JOB_EVENTS,
                path_values={"job_id": job_id, "instance_id": instance_id},
                params={"limit": limit, "offset": offset},
            ).json_object()

        for record in iter_records(fetch, "event"):
            yield cast(JobEvent, record)
