"""The last SIS run: by job category, else by the USER profiles' jobs; a failure only warns."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

from reconciler.alma import AlmaClient
from reconciler.errors import AlmaApiError, AlmaCall
from reconciler.reading.sis_runs import jobs_of_user_profiles, last_patron_load_run

from ..fixture_tree import ClientFactory, SandboxFactory

SINCE = date(2000, 1, 1)


def test_both_ways_find_the_same_sis_jobs(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    """In the sandbox, category=SIS and the USER profiles' jobs are the same jobs."""
    client = make_client(make_sandbox(), "ucf")
    by_category = {j["id"] for j in client.iter_jobs("SCHEDULED", category="SIS")}
    by_profiles = {j["id"] for j in jobs_of_user_profiles(client)}
    assert by_category
    assert by_category == by_profiles
    found = last_patron_load_run(client, SINCE)
    assert found.newest is not None
    assert found.warnings == ()


class NoCategoryAlma:
    """An Alma that refuses `category=SIS` but lists USER profiles and their jobs."""

    def __init__(self, *, profiles_fail: bool = False) -> None:
        self.profiles_fail = profiles_fail

    def iter_jobs(self, job_type: str = "MANUAL", **filters: Any) -> Iterator[dict[str, Any]]:
        if filters.get("category"):
            raise AlmaApiError(
                AlmaCall("GET", "/conf/jobs"),
                status=400,
                alma_code="402119",
                alma_message="General error.",
                tracking_id="E01-TRACK",
            )
        if filters.get("profile_id") == "P1":
            yield {"id": "S100", "type": {"value": job_type}}

    def iter_integration_profiles(self, profile_type: str = "USER") -> Iterator[dict[str, Any]]:
        if self.profiles_fail:
            raise AlmaApiError(AlmaCall("GET", "/conf/integration-profiles"), status=500)
        yield {"id": "P1", "type": {"value": profile_type}}

    def iter_job_instances(self, job_id: str, **_: Any) -> Iterator[dict[str, Any]]:
        assert job_id == "S100"
        yield {"id": "1", "start_time": "2026-11-26T05:00:00.000Z"}


def test_a_refused_category_falls_back_to_profiles_and_warns() -> None:
    """category=SIS refused: the run is found through the profiles, with a warning."""
    found = last_patron_load_run(NoCategoryAlma(), SINCE)  # type: ignore[arg-type]
    assert found.newest == datetime(2026, 11, 26, 5, 0, tzinfo=UTC)
    (warning,) = found.warnings
    assert "category 'SIS'" in warning
    assert "402119" in warning
    assert "E01-TRACK" in warning


def test_when_nothing_works_the_plan_goes_on_without_a_last_run() -> None:
    """Both ways fail: no last run, two warnings, no exception."""
    alma: AlmaClient = NoCategoryAlma(profiles_fail=True)  # type: ignore[assignment]
    found = last_patron_load_run(alma, SINCE)
    assert found.newest is None
    assert len(found.warnings) == 2
    assert "judged by its own dates" in found.warnings[1]
