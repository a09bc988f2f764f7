"""Retries: per-second 429, 5xx and dropped connections are retried on safe calls only."""

from __future__ import annotations

import pytest

from reconciler.alma.retry import RetryPolicy, is_idempotent
from reconciler.errors import (
    AlmaCall,
    AlmaConflictError,
    AlmaDailyLimitError,
    AlmaNetworkError,
    AlmaNotFoundError,
    AlmaServerError,
)

from .fakes import Canned, ClientFactory, FakeAlma, SleepRecorder, json_error

CALL = AlmaCall("GET", "/x")
THROTTLED = Canned(status=429, body=json_error("PER_SECOND_THRESHOLD", "Too many per second."))
DAILY = Canned(status=429, body=json_error("DAILY_THRESHOLD", "Daily threshold reached."))
USER = {"primary_id": "u1", "user_group": {"value": "01"}}


def test_full_jitter_delays_grow_and_are_capped() -> None:
    """The ceiling doubles per try up to the cap, and jitter picks a share of it."""
    policy = RetryPolicy(base_delay=0.5, max_delay=3.0, jitter=lambda: 1.0)
    assert [policy.delay(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    half = RetryPolicy(base_delay=0.5, max_delay=3.0, jitter=lambda: 0.5)
    assert half.delay(2) == 0.5


def test_policy_decisions() -> None:
    """Retryable errors on idempotent calls retry until max attempts; daily never does."""
    policy = RetryPolicy(max_attempts=3)
    assert policy.should_retry(AlmaServerError(CALL, status=500), 1, idempotent=True)
    assert policy.should_retry(AlmaNetworkError(CALL, status=None), 2, idempotent=True)
    assert not policy.should_retry(AlmaServerError(CALL, status=500), 3, idempotent=True)
    assert not policy.should_retry(AlmaServerError(CALL, status=500), 1, idempotent=False)
    assert not policy.should_retry(AlmaDailyLimitError(CALL, status=429), 1, idempotent=True)
    assert not policy.should_retry(AlmaNotFoundError(CALL, status=400), 1, idempotent=True)
    assert not policy.should_retry(AlmaConflictError(CALL, status=400), 1, idempotent=True)


def test_idempotent_methods() -> None:
    """GET and PUT (swap-all) are safe to repeat; POST and DELETE are not by default."""
    assert is_idempotent("get")
    assert is_idempotent("PUT")
    assert not is_idempotent("POST")
    assert not is_idempotent("DELETE")


def test_per_second_429_is_retried_with_backoff_and_slows_the_limiter(
    fake_alma: FakeAlma, make_client: ClientFactory, sleeps: SleepRecorder
) -> None:
    """Two 429s then a 200: three calls, two growing back-offs, and the limiter slows down."""
    fake_alma.script("GET", "/users/u1", THROTTLED, THROTTLED, Canned(body=USER))
    client = make_client()
    rate_before = client.limiter.rate
    assert client.get_user("u1")["primary_id"] == "u1"
    assert len(fake_alma.seen("GET", "/users/u1")) == 3
    assert sleeps.calls == [0.5, 1.0]
    assert client.limiter.rate < rate_before
    summary = client.ledger.summary()
    assert summary.retries == 2
    assert summary.throttled == 2
    assert summary.backoff_seconds == 1.5
    assert summary.by_endpoint["GET /users/{user_id}"] == {"200": 1, "429": 2}


def test_server_errors_are_retried_until_max_attempts(
    fake_alma: FakeAlma, make_client: ClientFactory, sleeps: SleepRecorder
) -> None:
    """A GET that keeps failing with 503 is tried max_attempts times, then raises."""
    fake_alma.script("GET", "/conf/code-tables/UserGroups", Canned(status=503, body=b"down"))
    with pytest.raises(AlmaServerError):
        make_client().get_code_table("UserGroups")
    assert len(fake_alma.seen("GET", "/conf/code-tables/UserGroups")) == 4
    assert len(sleeps.calls) == 3


def test_dropped_connection_on_get_is_retried(
    fake_alma: FakeAlma, make_client: ClientFactory
) -> None:
    """A dropped connection on a GET is retried and the second answer is used."""
    fake_alma.script("GET", "/users/u1", Canned(drop=True), Canned(body=USER))
    client = make_client()
    assert client.get_user("u1")["primary_id"] == "u1"
    assert client.ledger.calls_to("GET /users/{user_id}") == {"network": 1, "200": 1}


def test_put_of_a_full_record_is_retried(fake_alma: FakeAlma, make_client: ClientFactory) -> None:
    """PUT is swap-all, so repeating it after a 500 is safe."""
    fake_alma.script("PUT", "/users/u1", Canned(status=500), Canned(body=USER))
    make_client().update_user("u1", USER)  # type: ignore[arg-type]
    assert len(fake_alma.seen("PUT", "/users/u1")) == 2


def test_daily_threshold_is_never_retried(
    fake_alma: FakeAlma, make_client: ClientFactory, sleeps: SleepRecorder
) -> None:
    """DAILY_THRESHOLD stops at once: one call, no back-off."""
    fake_alma.script("GET", "/users/u1", DAILY)
    with pytest.raises(AlmaDailyLimitError):
        make_client().get_user("u1")
    assert len(fake_alma.seen("GET", "/users/u1")) == 1
    assert sleeps.calls == []


@pytest.mark.parametrize("answer", [Canned(status=500), Canned(drop=True)], ids=["500", "drop"])
def test_post_is_never_retried_after_a_failure_that_may_have_run_it(
    fake_alma: FakeAlma, make_client: ClientFactory, sleeps: SleepRecorder, answer: Canned
) -> None:
    """A job run (POST) that fails is not sent again: Alma may already have started it."""
    fake_alma.script("POST", "/conf/jobs/M148", answer)
    with pytest.raises((AlmaServerError, AlmaNetworkError)):
        make_client().run_job("M148", {"set_id": "1"})
    assert len(fake_alma.seen("POST", "/conf/jobs/M148")) == 1
    assert sleeps.calls == []


def test_post_and_delete_are_retried_after_a_per_second_refusal(
    fake_alma: FakeAlma, make_client: ClientFactory, sleeps: SleepRecorder
) -> None:
    """PER_SECOND_THRESHOLD is a refusal at the gate (nothing ran): any method tries again."""
    fake_alma.script("POST", "/conf/jobs/M148", THROTTLED, Canned(body={"id": "1"}))
    fake_alma.script("DELETE", "/users/u1", THROTTLED, Canned(status=204))
    client = make_client()
    client.run_job("M148", {"set_id": "1"})
    client.delete_user("u1")
    assert len(fake_alma.seen("POST", "/conf/jobs/M148")) == 2
    assert len(fake_alma.seen("DELETE", "/users/u1")) == 2
    assert len(sleeps.calls) == 2


def test_delete_is_retried_only_when_marked_idempotent(
    fake_alma: FakeAlma, make_client: ClientFactory
) -> None:
    """DELETE /users is not retried; delete_set (marked idempotent) is."""
    fake_alma.script("DELETE", "/users/u1", Canned(status=500))
    fake_alma.script("DELETE", "/conf/sets/7", Canned(status=500), Canned(status=204))
    client = make_client()
    with pytest.raises(AlmaServerError):
        client.delete_user("u1")
    client.delete_set("7")
    assert len(fake_alma.seen("DELETE", "/users/u1")) == 1
    assert len(fake_alma.seen("DELETE", "/conf/sets/7")) == 2


def test_api_remaining_header_is_tracked(fake_alma: FakeAlma, make_client: ClientFactory) -> None:
    """The latest X-Exl-Api-Remaining is exposed on the client and in the ledger."""
    fake_alma.script(
        "GET",
        "/users/u1",
        Canned(body=USER, headers={"X-Exl-Api-Remaining": "149999"}),
        Canned(body=USER, headers={"X-Exl-Api-Remaining": "149998"}),
    )
    client = make_client()
    assert client.api_remaining is None
    client.get_user("u1")
    client.get_user("u1")
    assert client.api_remaining == 149998
    assert client.ledger.summary().daily_calls_left == 149998
