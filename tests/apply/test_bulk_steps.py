"""A bulk move whose POST was carried out but whose answer was lost: the next try finds what
the lost one made instead of making it again (one set, one chunk, one run), and a delete whose
answer was lost counts as done.

The sandbox runs in-process; a transport in front of it carries out one chosen call and then
raises as a dropped connection would, which is the case the client cannot tell from a call
that never arrived.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from reconciler.alma import AlmaClient
from reconciler.alma.normalise import code_of
from reconciler.alma.transport import Transport, TransportResponse
from reconciler.apply.bulk_move import BulkEvent, run_bulk_move
from reconciler.desired import load_desired_state
from reconciler.errors import AlmaCall, AlmaNetworkError
from reconciler.model import DesiredState, UpdateUsersJobTemplate
from reconciler.sandbox import InProcessSandbox, JobTiming, SandboxConfig

from .conftest import DEMO, FAST_RETRY, FIXTURES, QUICK_POLLS, SLUG


class LosesOneAnswer:
    """Passes every call to `inner`; the first one matching `method` and `path` is carried out
    and its answer then lost."""

    def __init__(self, inner: Transport, method: str, path: str) -> None:
        self.inner = inner
        self.method, self.path = method, re.compile(path)
        self.lost = 0

    def send(
        self,
        method: str,
        path: str,
        params: Mapping[str, str],
        json_body: object | None,
        *,
        deadline: float | None = None,
    ) -> TransportResponse:
        answer = self.inner.send(method, path, params, json_body, deadline=deadline)
        if not self.lost and method == self.method and self.path.fullmatch(path):
            self.lost += 1
            raise AlmaNetworkError(
                AlmaCall(method, path), status=None, alma_message="connection dropped (test)"
            )
        return answer


@pytest.fixture
def sandbox(tmp_path: Path, seeded_state: Path) -> Iterator[InProcessSandbox]:
    shutil.copytree(seeded_state, tmp_path / "state")
    config = SandboxConfig(job_timing=JobTiming(0.02, 500, 0.0), per_second_limit=10_000)
    with InProcessSandbox(tmp_path / "state", FIXTURES, config) as started:
        yield started


@pytest.fixture(scope="module")
def template() -> UpdateUsersJobTemplate:
    demo = load_desired_state(DEMO).get("demo")
    assert demo is not None
    assert demo.update_users_job is not None
    return demo.update_users_job


# (method, path of the call whose answer is lost, the ledger's name for it when a POST)
LOST = [
    ("POST", r"/conf/sets", "POST /conf/sets"),
    ("POST", r"/conf/sets/\d+", "POST /conf/sets/{set_id}"),
    ("POST", r"/conf/jobs/M148", "POST /conf/jobs/{job_id}"),
    ("DELETE", r"/conf/sets/\d+", ""),
]


@pytest.mark.parametrize("lost", LOST)
def test_a_lost_answer_is_found_not_repeated(
    lost: tuple[str, str, str],
    sandbox: InProcessSandbox,
    seeded_desired: DesiredState,
    template: UpdateUsersJobTemplate,
) -> None:
    """The call happened, its answer was lost: the move completes with one set, one chunk and
    one run, every member changed once, and the set is gone."""
    method, path, posts = lost
    lossy = LosesOneAnswer(sandbox.transport(SLUG), method, path)
    institution = seeded_desired.institutions[0].institution
    with AlmaClient.for_institution(institution, {}, lossy, retry=FAST_RETRY) as client:
        users = client.iter_users()
        staff = [str(u["primary_id"]) for u in users if code_of(u["user_group"]) == "STAFF"]
        events: list[BulkEvent] = []
        outcome = run_bulk_move(
            client,
            slug=SLUG,
            source="STAFF",
            target="01",
            member_ids=staff,
            template=template,
            on_event=events.append,
            poll=QUICK_POLLS,
        )
        assert lossy.lost == 1
        assert outcome.completed_successfully
        assert outcome.set_deleted
        assert list(client.iter_sets()) == []
        assert len(list(client.iter_job_instances("M148"))) == 1
        if posts:  # the lost POST was not sent again
            assert sum(client.ledger.calls_to(posts).values()) == 1
    assert sandbox.app.store.group_changes(SLUG) == dict.fromkeys(staff, 1)
    assert [e.kind for e in events][-1] == "set_deleted"
