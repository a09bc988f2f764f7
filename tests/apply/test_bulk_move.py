"""Bulk move over real HTTP: an itemized set and Update/Notify Users against the sandbox.

The sandbox refuses a run lacking any of the wizard's parameters (402228), keeps Alma's job
limits, and changes only user_group. The template is the demo fixture's wizard paste, loaded by
the project's own loader. Fixtures live in this module (not a conftest) so the apply engine's
tests can grow beside it without sharing state.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from reconciler.alma import AlmaClient, TokenBucket
from reconciler.apply.bulk_move import (
    BulkEvent,
    BulkMoveOutcome,
    PollPolicy,
    bulk_move_cost,
    run_bulk_move,
)
from reconciler.desired import load_desired_state
from reconciler.errors import (
    AlmaApiError,
    AlmaJobLimitError,
    AlmaJobTemplateError,
    AlmaNotFoundError,
    BulkMoveError,
)
from reconciler.model import (
    DesiredState,
    Institution,
    InstitutionState,
    KeptGroup,
    Region,
    RetiredGroup,
    Sector,
    UpdateUsersJobTemplate,
    UserGroups,
)
from reconciler.sandbox import JobTiming, SandboxConfig, SandboxServer, seed_state

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "valid" / "institutions"
FAST_JOBS = JobTiming(start_delay_s=0.05, batch_size=500, batch_delay_s=0.0)
QUICK_POLLS = PollPolicy(first_delay_s=0.02, factor=2.0, max_delay_s=0.2, timeout_s=60)
UCF = Institution(
    slug="ucf",
    alma_code="01FALSC_UCF",
    name="University of Central Florida",
    sector=Sector.UNIVERSITY,
    region=Region.NA,
    api_key_env="ALMA_API_KEY_UCF",
    owners=("@flvc-alma/ucf",),
)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """ucf at a scale that puts about 2,000 users in group 01 (seeded once, copied per test)."""
    groups = UserGroups(
        groups=(
            KeptGroup("01", "Undergraduate", default=True),
            KeptGroup("GR", "Graduate Student"),
            KeptGroup("FAC", "Faculty"),
            KeptGroup("STAFF", "Library Staff"),
            KeptGroup("GUEST", "Guest borrower"),
        ),
        retired=(RetiredGroup("15", "Autologin", "unused", move_users_to="GR"),),
    )
    state = tmp_path_factory.mktemp("bulk-seeded")
    desired = DesiredState((InstitutionState(UCF, groups),))
    # the headcount is this test's own, not the seed's Florida hints (kept for the demo)
    seed_state(state, desired, scale=0.05, seed=3, population={"ucf": 75_000})
    return state


@pytest.fixture
def make_client(tmp_path: Path, seeded: Path) -> Iterator[Callable[..., AlmaClient]]:
    """A real client over HTTP to a fresh sandbox copy (with any job timing); all stopped after."""
    servers: list[SandboxServer] = []
    clients: list[AlmaClient] = []

    def make(job_timing: JobTiming = FAST_JOBS) -> AlmaClient:
        state = tmp_path / f"state{len(servers)}"
        shutil.copytree(seeded, state)
        config = SandboxConfig(job_timing=job_timing, per_second_limit=10_000)
        server = SandboxServer(state, tmp_path / "none", config, port=0).start()
        servers.append(server)
        env = {"ALMA_API_URL": server.base_url, "ALMA_API_KEY_UCF": server.api_keys()["ucf"]}
        client = AlmaClient.for_institution(UCF, env, limiter=TokenBucket(1000))
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()
    for server in servers:
        server.stop()


@pytest.fixture(scope="module")
def template() -> UpdateUsersJobTemplate:
    """The demo fixture's wizard paste (no job id: the job is looked up by name)."""
    demo = load_desired_state(FIXTURES).get("demo")
    assert demo is not None
    assert demo.update_users_job is not None
    return demo.update_users_job


def members_of(client: AlmaClient, code: str) -> list[str]:
    return [u["primary_id"] for u in client.iter_users(f"user_group~{code}") if _group(u) == code]


def _group(user: Any) -> str:
    return str(user["user_group"]["value"])


def move(
    client: AlmaClient,
    template: UpdateUsersJobTemplate,
    members: list[str],
    *,
    target: str = "GR",
    events: list[BulkEvent] | None = None,
    poll: PollPolicy = QUICK_POLLS,
) -> BulkMoveOutcome:
    sink = events.append if events is not None else (lambda _: None)
    return run_bulk_move(
        client,
        slug="ucf",
        source="01",
        target=target,
        member_ids=members,
        template=template,
        on_event=sink,
        poll=poll,
    )


class FakeTime:
    """A clock that moves only when slept on; remembers every pause asked for."""

    def __init__(self) -> None:
        self.now = 0.0
        self.pauses: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.pauses.append(seconds)
        self.now += seconds


def test_cost_counts_one_add_call_per_thousand() -> None:
    """create, job lookup, run, final read and delete, plus ⌈n/1000⌉ add calls."""
    assert [bulk_move_cost(n) for n in (1, 1000, 1001, 2168, 50_000)] == [6, 6, 7, 8, 55]


def test_bulk_move_of_thousands_changes_only_their_group(
    make_client: Callable[..., AlmaClient], template: UpdateUsersJobTemplate
) -> None:
    """Every member of 01 ends in GR, every other field and every other user as before."""
    client = make_client()
    before = {u["primary_id"]: u for u in client.iter_users()}
    members = members_of(client, "01")
    assert len(members) > 2000
    calls_before = client.ledger.total_calls
    events: list[BulkEvent] = []
    outcome = move(client, template, members, events=events)
    assert outcome.completed_successfully
    assert outcome.job_id == "M148"
    assert outcome.set_deleted
    assert outcome.counters["c.jobs.users.updated"] == len(members)
    assert client.ledger.total_calls - calls_before == bulk_move_cost(len(members)) + (
        outcome.polls
    )
    after = {u["primary_id"]: u for u in client.iter_users()}
    assert after.keys() == before.keys()
    moved = set(members)
    for primary_id, old in before.items():
        new = after[primary_id]
        assert _group(new) == ("GR" if primary_id in moved else _group(old))
        assert {k: v for k, v in new.items() if k != "user_group"} == {
            k: v for k, v in old.items() if k != "user_group"
        }
    kinds = [e.kind for e in events]
    assert kinds == [
        "set_creating",
        "set_created",
        *["members_added"] * 3,
        "job_starting",
        "job_submitted",
        "job_finished",
        "set_deleted",
    ]
    assert [e.added for e in events if e.kind == "members_added"] == [1000, 2000, len(members)]
    with pytest.raises(AlmaNotFoundError):
        client.get_set(outcome.set_id)


def test_events_carry_no_primary_ids(
    make_client: Callable[..., AlmaClient], template: UpdateUsersJobTemplate
) -> None:
    """Canary: no moved user's primary id appears in any journal event."""
    client = make_client()
    members = members_of(client, "15")
    events: list[BulkEvent] = []
    move(client, template, members, events=events)
    text = json.dumps([e.as_dict() for e in events])
    assert '"kind": "job_finished"' in text
    assert not [m for m in members if m in text]


def test_template_lacking_a_parameter_is_402228_naming_it_and_the_file(
    make_client: Callable[..., AlmaClient], template: UpdateUsersJobTemplate
) -> None:
    """Without PRODUCT Alma refuses the run; the error names it and the template; no set stays."""
    client = make_client()
    short = dataclasses.replace(
        template, parameters=tuple(p for p in template.parameters if p.name != "PRODUCT")
    )
    events: list[BulkEvent] = []
    with pytest.raises(AlmaJobTemplateError) as caught:
        move(client, short, members_of(client, "15"), events=events)
    message = str(caught.value)
    assert caught.value.alma_code == "402228"
    assert caught.value.parameter == "PRODUCT"
    assert message.startswith(f"{template.location.file}: the job template lacks the mandatory")
    assert "POST /conf/jobs/M148 failed, HTTP 400, Alma error 402228" in message
    assert "trackingId" in message
    assert "\n" not in message
    assert [e.kind for e in events][-1] == "set_deleted"
    with pytest.raises(AlmaNotFoundError):
        client.get_set(next(e.set_id for e in events if e.kind == "set_created"))
    assert members_of(client, "01")  # nobody moved


def test_set_is_deleted_when_the_job_fails(
    make_client: Callable[..., AlmaClient], template: UpdateUsersJobTemplate
) -> None:
    """A run whose every user fails (STAFF is disabled) ends COMPLETED_FAILED; the set goes."""
    client = make_client()
    members = members_of(client, "15")
    outcome = move(client, template, members, target="STAFF")
    assert outcome.status == "COMPLETED_FAILED"
    assert not outcome.completed_successfully
    assert outcome.counters["c.jobs.users.failed"] == len(members)
    assert outcome.set_deleted
    with pytest.raises(AlmaNotFoundError):
        client.get_set(outcome.set_id)
    assert sorted(members_of(client, "15")) == sorted(members)


def test_job_is_looked_up_by_name_only_without_an_id(
    make_client: Callable[..., AlmaClient], template: UpdateUsersJobTemplate
) -> None:
    """Without an id: GET /conf/jobs once; with one: no lookup at all."""
    client = make_client()
    move(client, template, members_of(client, "15")[:5])
    assert client.ledger.calls_to("GET /conf/jobs") == {"200": 1}
    with_id = dataclasses.replace(template, job_id="M148")
    outcome = move(client, with_id, members_of(client, "15")[:5])
    assert outcome.job_id == "M148"
    assert client.ledger.calls_to("GET /conf/jobs") == {"200": 1}


def test_unknown_job_name_is_a_clear_error_before_any_set(
    make_client: Callable[..., AlmaClient], template: UpdateUsersJobTemplate
) -> None:
    """A job name Alma does not list is named with the template file; no set is created."""
    client = make_client()
    renamed = dataclasses.replace(template, job_name="Update Users (old)")
    with pytest.raises(BulkMoveError) as caught:
        move(client, renamed, members_of(client, "15"))
    assert "no manual job named 'Update Users (old)'" in str(caught.value)
    assert template.location.file in str(caught.value)
    assert client.ledger.calls_to("POST /conf/sets") == {}


def test_polls_back_off_on_an_injected_clock(
    make_client: Callable[..., AlmaClient], template: UpdateUsersJobTemplate
) -> None:
    """Pauses grow by the factor up to the cap; the count of polls matches the pauses."""
    client = make_client(JobTiming(start_delay_s=0.5, batch_size=500, batch_delay_s=0.0))
    fake = FakeTime()

    def slow_sleep(seconds: float) -> None:
        fake.sleep(seconds)
        real_pause(0.05)  # let the sandbox's job thread get on

    policy = PollPolicy(
        first_delay_s=1,
        factor=2,
        max_delay_s=8,
        timeout_s=10_000,
        sleep=slow_sleep,
        clock=fake.clock,
    )
    outcome = move(client, template, members_of(client, "15"), poll=policy)
    assert outcome.completed_successfully
    assert outcome.polls == len(fake.pauses) >= 1
    assert fake.pauses == [min(2**i, 8) for i in range(len(fake.pauses))]
    assert list(zip(range(6), PollPolicy(1, 3, 20).delays(), strict=False)) == list(
        enumerate([1, 3, 9, 20, 20, 20])
    )


def real_pause(seconds: float) -> None:
    import time  # noqa: PLC0415 - the one real pause in this module, kept visible

    time.sleep(seconds)


def test_timeout_keeps_the_set_and_says_what_to_do(
    make_client: Callable[..., AlmaClient], template: UpdateUsersJobTemplate
) -> None:
    """A run that does not end in time raises; its set is kept (the job may still use it)."""
    client = make_client(JobTiming(start_delay_s=60))
    fake = FakeTime()
    policy = PollPolicy(1, 2, 8, timeout_s=30, sleep=fake.sleep, clock=fake.clock)
    events: list[BulkEvent] = []
    with pytest.raises(BulkMoveError) as caught:
        move(client, template, members_of(client, "15"), poll=policy, events=events)
    assert "has not ended after 30 s (status QUEUED" in str(caught.value)
    assert "check Monitor Jobs" in str(caught.value)
    assert sum(fake.pauses) == 30
    assert events[-1].kind == "set_kept"
    assert client.get_set(events[-1].set_id)["id"] == events[-1].set_id


def test_three_running_jobs_refuse_a_fourth_with_402222(
    make_client: Callable[..., AlmaClient], template: UpdateUsersJobTemplate
) -> None:
    """The fourth bulk move while three jobs run fails clearly (402222), and its set is deleted."""
    client = make_client(JobTiming(start_delay_s=60))
    members = members_of(client, "15")
    for _ in range(3):
        fake = FakeTime()
        with pytest.raises(BulkMoveError):
            move(client, template, members[:2], poll=PollPolicy(1, 2, 8, 5, fake.sleep, fake.clock))
    events: list[BulkEvent] = []
    with pytest.raises(AlmaJobLimitError) as caught:
        move(client, template, members[:2], events=events)
    assert caught.value.alma_code == "402222"
    assert str(caught.value).startswith("Alma refused to start the job: at most 3 API-started")
    assert events[-1].kind == "set_deleted"


def test_a_sixth_run_within_the_hour_is_402223(
    make_client: Callable[..., AlmaClient], template: UpdateUsersJobTemplate
) -> None:
    """Five bulk moves in an hour are allowed; the sixth fails clearly with 402223."""
    client = make_client()
    members = members_of(client, "15")
    for index in range(5):
        assert move(client, template, members[index : index + 1]).completed_successfully
    with pytest.raises(AlmaJobLimitError) as caught:
        move(client, template, members[5:6])
    assert caught.value.alma_code == "402223"
    assert "5 times an hour" in str(caught.value)


class _NamesAMember(BaseHTTPRequestHandler):
    """A fake Alma that creates set 77, then refuses adding members with a message naming one
    (as Alma's 60115 "A member ID is already in the set: X" does), and deletes the set."""

    deleted: ClassVar[list[str]] = []

    def _answer(self, status: int, body: Any = None) -> None:
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path.split("?")[0] == "/almaws/v1/conf/sets":
            self._answer(200, {"id": "77", "name": "x"})
            return
        error = {
            "errorCode": "60115",
            "errorMessage": "A member ID is already in the set: CANARY-9",
            "trackingId": "T-1",
        }
        self._answer(400, {"errorsExist": True, "errorList": {"error": [error]}})

    def do_DELETE(self) -> None:
        type(self).deleted.append(self.path)
        self._answer(204)

    def log_message(self, *args: Any) -> None:
        """Silent: nothing may write to a shared stream from a server thread."""


def test_errors_from_adding_members_mask_their_ids(template: UpdateUsersJobTemplate) -> None:
    """Canary: Alma's message names a member; the error raised says <member> instead."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _NamesAMember)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        env = {
            "ALMA_API_URL": f"http://127.0.0.1:{server.server_address[1]}",
            "ALMA_API_KEY_UCF": "k",
        }
        with AlmaClient.for_institution(UCF, env) as client:
            with_id = dataclasses.replace(template, job_id="M148")
            with pytest.raises(AlmaApiError) as caught:
                move(client, with_id, ["CANARY-9", "CANARY-10"])
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    assert caught.value.alma_code == "60115"
    assert "CANARY" not in str(caught.value)
    assert "A member ID is already in the set: <member>" in str(caught.value)
    assert caught.value.__cause__ is None
    assert _NamesAMember.deleted == ["/almaws/v1/conf/sets/77"]
