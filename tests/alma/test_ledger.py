"""The call ledger counts by endpoint template and outcome, retries, waits and the daily budget."""

from __future__ import annotations

import threading

import pytest

from reconciler.alma.ledger import CallLedger, LedgerSummary
from reconciler.errors import AlmaNotFoundError

from .fakes import Canned, ClientFactory, FakeAlma, json_error


def test_summary_counts_calls_retries_waits_and_budget() -> None:
    """Counts add up per endpoint and outcome, and the summary is JSON-ready and sorted."""
    ledger = CallLedger()
    ledger.record_call("GET /users/{user_id}", 200)
    ledger.record_call("GET /users/{user_id}", 200)
    ledger.record_call("GET /users/{user_id}", 429)
    ledger.record_call("PUT /users/{user_id}", "network")
    ledger.record_retry("GET /users/{user_id}")
    ledger.record_limiter_wait(0.25)
    ledger.record_limiter_wait(0.0)
    ledger.record_backoff(1.5)
    ledger.record_throttled()
    ledger.record_daily_calls_left(1234)
    assert ledger.summary().to_json() == {
        "calls": 4,
        "by_endpoint": {
            "GET /users/{user_id}": {"200": 2, "429": 1},
            "PUT /users/{user_id}": {"network": 1},
        },
        "retries": 1,
        "retries_by_endpoint": {"GET /users/{user_id}": 1},
        "throttled": 1,
        "limiter_wait_seconds": 0.25,
        "backoff_seconds": 1.5,
        "daily_calls_left": 1234,
    }
    assert ledger.summary() == LedgerSummary(
        calls=4,
        by_endpoint={
            "GET /users/{user_id}": {"200": 2, "429": 1},
            "PUT /users/{user_id}": {"network": 1},
        },
        retries=1,
        retries_by_endpoint={"GET /users/{user_id}": 1},
        throttled=1,
        limiter_wait_seconds=0.25,
        backoff_seconds=1.5,
        daily_calls_left=1234,
    )
    assert ledger.summary().calls_to("GET /users/{user_id}") == 3


def test_ledger_is_safe_across_threads() -> None:
    """Eight threads recording 1000 calls each lose none."""
    ledger = CallLedger()

    def record() -> None:
        for _ in range(1000):
            ledger.record_call("GET /users", 200)

    threads = [threading.Thread(target=record) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert ledger.total_calls == 8000


def test_client_ledger_uses_templates_never_real_ids(
    fake_alma: FakeAlma, make_client: ClientFactory
) -> None:
    """After calls for real user ids, the ledger shows only `{user_id}` templates."""
    fake_alma.script("GET", "/users/N00012345", {"primary_id": "N00012345"})
    fake_alma.script(
        "GET", "/users/N00099999", Canned(status=400, body=json_error("401861", "Not found"))
    )
    fake_alma.script("GET", "/users", {"user": [], "total_record_count": 7})
    client = make_client()
    client.get_user("N00012345")
    assert client.count_users("user_group~15") == 7
    with pytest.raises(AlmaNotFoundError):
        client.get_user("N00099999")
    summary = client.ledger.summary()
    assert summary.by_endpoint == {
        "GET /users": {"200": 1},
        "GET /users/{user_id}": {"200": 1, "400": 1},
    }
    assert "N000" not in str(summary)
    assert "user_group~15" not in str(summary)
