"""The fan-out: every institution runs with its own client and ledger; failures stay typed."""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping

import pytest

from reconciler.alma import AlmaClient, CallLedger, RetryPolicy
from reconciler.alma.transport import TransportResponse
from reconciler.errors import AlmaAuthError, ReconcilerError, UsageError
from reconciler.model import Institution
from reconciler.runs.fanout import connect_with, for_each_institution, partition

from ..builders import institution

INSTITUTIONS = [institution(slug) for slug in ("ucf", "bc", "fiu")]
DENIED = b'{"errorsExist":true,"errorList":{"error":[{"errorCode":"UNAUTHORIZED"}]}}'


class UserCounts:
    """A transport that answers GET /users with a count per institution (401 for a stranger)."""

    def __init__(self, total: int | None) -> None:
        self.total = total

    def send(
        self, method: str, path: str, params: Mapping[str, str], json_body: object | None
    ) -> TransportResponse:
        assert (method, path) == ("GET", "/users")
        if self.total is None:
            return TransportResponse(401, {"content-type": "application/json"}, DENIED)
        body = json.dumps({"user": [], "total_record_count": self.total}).encode()
        return TransportResponse(200, {"content-type": "application/json"}, body)


COUNTS = {"ucf": 120, "bc": None, "fiu": 7}


def connect(institution: Institution, ledger: CallLedger) -> AlmaClient:
    transport = UserCounts(COUNTS[institution.slug])
    retry = RetryPolicy(sleep=lambda _: None)
    return AlmaClient.for_institution(
        institution, {}, transport=transport, ledger=ledger, retry=retry
    )


def count(_: Institution, client: AlmaClient) -> int | None:
    return client.count_users("user_group~15")


def test_results_and_typed_failures_per_slug_with_each_ledger() -> None:
    """Each slug gets its result or its very error, and the calls it made, failures included."""
    runs = for_each_institution(INSTITUTIONS, count, connect=connect)
    assert list(runs) == ["bc", "fiu", "ucf"]
    counted, failed = partition(runs)
    assert counted == {"fiu": 7, "ucf": 120}
    assert set(failed) == {"bc"}
    assert isinstance(failed["bc"], AlmaAuthError)
    assert runs["bc"].error is failed["bc"]
    assert runs["ucf"].error is None
    assert {slug: run.ledger.calls for slug, run in runs.items()} == {"bc": 1, "fiu": 1, "ucf": 1}


def test_a_missing_api_key_fails_that_institution_only() -> None:
    """Clients over HTTP read each key from env; an absent one is a UsageError for its slug."""
    env = {"ALMA_API_URL": "http://127.0.0.1:9", "ALMA_API_KEY_UCF": "k", "ALMA_API_KEY_FIU": "k"}
    runs = for_each_institution(
        INSTITUTIONS, lambda inst, _: inst.alma_code, connect=connect_with(env)
    )
    done, failed = partition(runs)
    assert done == {"fiu": "01TEST_FIU", "ucf": "01TEST_UCF"}
    assert isinstance(failed["bc"], UsageError)
    assert "ALMA_API_KEY_BC" in str(failed["bc"])


def test_a_bug_is_not_hidden_as_a_failed_institution() -> None:
    """Only ReconcilerError is kept per slug; any other exception propagates."""

    def broken(_: Institution, __: AlmaClient) -> None:
        raise KeyError("a bug")

    with pytest.raises(KeyError):
        for_each_institution(INSTITUTIONS, broken, connect=connect)


def test_progress_ticks_once_per_institution_and_nothing_is_empty() -> None:
    """Progress hears each slug once, from whichever worker; no institutions, no results."""
    heard: list[str] = []
    lock = threading.Lock()

    def tick(slug: str) -> None:
        with lock:
            heard.append(slug)

    for_each_institution(INSTITUTIONS, count, connect=connect, parallel=2, progress=tick)
    assert sorted(heard) == ["bc", "fiu", "ucf"]
    assert for_each_institution([], count, connect=connect) == {}


def test_errors_of_our_tree_are_kept_whatever_their_kind() -> None:
    """A ReconcilerError raised by the work itself is the slug's result, unchanged."""
    refusal = UsageError("no such group")

    def refuse(inst: Institution, _: AlmaClient) -> str:
        if inst.slug == "fiu":
            raise refusal
        return inst.slug

    runs = for_each_institution(INSTITUTIONS, refuse, connect=connect)
    assert runs["fiu"].result is refusal
    assert isinstance(runs["fiu"].result, ReconcilerError)
    assert runs["fiu"].ledger.calls == 0
