"""Every error type the sandbox can produce, through the real client; retries under faults."""

from __future__ import annotations

import pytest

from reconciler.alma import RetryPolicy, TokenBucket
from reconciler.alma.ledger import NETWORK_FAILURE
from reconciler.errors import (
    AlmaApiError,
    AlmaAuthError,
    AlmaDailyLimitError,
    AlmaNetworkError,
    AlmaNotFoundError,
    AlmaPerSecondLimitError,
    AlmaServerError,
)
from reconciler.sandbox import FaultConfig

from ..fixture_tree import FAST_RETRY, ClientFactory, HttpSandboxFactory, SandboxFactory

CODE_TABLE = "GET /conf/code-tables/{table}"


def test_unknown_user_is_not_found_with_id_redacted(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    """401861 on HTTP 400 is AlmaNotFoundError; the message keeps {user_id}, not the id."""
    client = make_client(make_sandbox())
    with pytest.raises(AlmaNotFoundError) as caught:
        client.get_user("NOBODY-4711")
    error = caught.value
    assert (error.status, error.alma_code) == (400, "401861")
    assert error.tracking_id.startswith("E01-")
    assert "NOBODY-4711" not in str(error)
    assert "{user_id}" in str(error)
    assert client.ledger.summary().retries == 0


def test_bad_key_is_auth_error_from_xml_body(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    """An unknown key gets an XML UNAUTHORIZED body even though JSON was asked: AlmaAuthError."""
    server = make_sandbox()
    client = make_client(server, key="not-a-key")
    with pytest.raises(AlmaAuthError) as caught:
        client.get_code_table("UserGroups")
    assert (caught.value.status, caught.value.alma_code) == (400, "UNAUTHORIZED")
    assert caught.value.tracking_id
    assert client.ledger.calls_to(CODE_TABLE) == {"400": 1}  # not retried
    assert [e.status for e in server.request_log.entries] == [400]


def test_read_only_key_may_read_but_not_write(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    """A read-only key GETs the table but its PUT is AlmaAuthError (UNAUTHORIZED)."""
    client = make_client(make_sandbox(read_only=frozenset({"ucf"})))
    table = client.get_code_table("UserGroups")
    with pytest.raises(AlmaAuthError) as caught:
        client.put_code_table("UserGroups", table)
    assert caught.value.alma_code == "UNAUTHORIZED"


def test_ip_blocked_key_is_auth_error(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    """A key used from outside its IP range is 403 FORBIDDEN: AlmaAuthError."""
    client = make_client(make_sandbox(ip_blocked=frozenset({"ucf"})))
    with pytest.raises(AlmaAuthError) as caught:
        client.list_code_tables()
    assert (caught.value.status, caught.value.alma_code) == (403, "FORBIDDEN")


def test_per_second_429_is_retried_and_slows_the_limiter(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    """Over Alma's per-second limit, 429s are retried after a pause and every call succeeds."""
    server = make_sandbox(per_second_limit=3)
    limiter = TokenBucket(100)
    # A fixed pause (no jitter) longer than the sandbox's one-second window over two retries.
    retry = RetryPolicy(max_attempts=5, base_delay=0.4, max_delay=0.8, jitter=lambda: 1.0)
    client = make_client(server, retry=retry, limiter=limiter)
    tables = [client.get_code_table("UserGroups") for _ in range(5)]
    assert all(t["row"] for t in tables)
    summary = client.ledger.summary()
    assert summary.by_endpoint[CODE_TABLE]["429"] > 0
    assert summary.by_endpoint[CODE_TABLE]["200"] == 5
    assert summary.retries == summary.by_endpoint[CODE_TABLE]["429"]
    assert summary.throttled > 0
    assert limiter.stats().slowdowns >= 1
    assert limiter.rate < 100
    throttled = summary.by_endpoint[CODE_TABLE]["429"]
    assert server.request_log.counts()[("GET", "/conf/code-tables/{name}", 429)] == throttled


def test_per_second_429_surfaces_after_max_attempts(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    """When every answer is PER_SECOND_THRESHOLD, the error surfaces after max_attempts tries."""
    server = make_sandbox(faults=FaultConfig(burst_429_rate=1.0))
    client = make_client(server, limiter=TokenBucket(1000))
    with pytest.raises(AlmaPerSecondLimitError):
        client.get_code_table("UserGroups")
    assert client.ledger.calls_to(CODE_TABLE) == {"429": FAST_RETRY.max_attempts}


def test_daily_429_is_never_retried(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    """DAILY_THRESHOLD surfaces at once as AlmaDailyLimitError; calls left read 0 before it."""
    server = make_sandbox(daily_limit=2)
    client = make_client(server)
    client.get_code_table("UserGroups")
    client.get_code_table("UserGroups")
    assert client.api_remaining == 0
    with pytest.raises(AlmaDailyLimitError) as caught:
        client.get_code_table("UserGroups")
    assert (caught.value.status, caught.value.alma_code) == (429, "DAILY_THRESHOLD")
    assert client.ledger.calls_to(CODE_TABLE) == {"200": 2, "429": 1}
    assert client.ledger.summary().retries == 0
    assert client.ledger.summary().throttled == 0
    assert [e.status for e in server.request_log.entries] == [200, 200, 429]


def test_server_error_is_retried_then_surfaced(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    """With every answer a 500, a GET is tried max_attempts times, then AlmaServerError."""
    server = make_sandbox(faults=FaultConfig(error_5xx_rate=1.0))
    client = make_client(server)
    with pytest.raises(AlmaServerError) as caught:
        client.get_code_table("UserGroups")
    assert caught.value.status == 500
    attempts = FAST_RETRY.max_attempts
    assert client.ledger.calls_to(CODE_TABLE) == {"500": attempts}
    assert client.ledger.summary().retries == attempts - 1
    assert len(server.request_log.entries) == attempts


def test_server_error_on_post_is_not_retried(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    """A POST (create set) that meets a 500 is not repeated: Alma may have done the work."""
    client = make_client(make_sandbox(faults=FaultConfig(error_5xx_rate=1.0)))
    with pytest.raises(AlmaServerError):
        client.create_set("never twice")
    assert client.ledger.calls_to("POST /conf/sets") == {"500": 1}


@pytest.mark.parametrize("factory", ["make_http_sandbox", "make_sandbox"])
def test_dropped_connections_are_network_errors_after_retries(
    factory: str, request: pytest.FixtureRequest, make_client: ClientFactory
) -> None:
    """Every connection dropped (a closed socket, or the in-process transport's stand-in for
    one): the GET is retried, then AlmaNetworkError (no HTTP status)."""
    make: SandboxFactory | HttpSandboxFactory = request.getfixturevalue(factory)
    server = make(faults=FaultConfig(drop_rate=1.0))
    client = make_client(server)
    with pytest.raises(AlmaNetworkError) as caught:
        client.get_user("ANYONE-1")
    assert caught.value.status is None
    assert "ANYONE-1" not in str(caught.value)
    attempts = FAST_RETRY.max_attempts
    assert client.ledger.calls_to("GET /users/{user_id}") == {NETWORK_FAILURE: attempts}
    assert [e.status for e in server.request_log.entries] == [0] * attempts


def test_mixed_faults_a_batch_of_gets_all_succeed(
    make_http_sandbox: HttpSandboxFactory, make_client: ClientFactory
) -> None:
    """Under 5xx, 429-burst and drop faults, 80 concurrent GETs over HTTP (through the
    connection pool) all succeed through retries."""
    faults = FaultConfig(
        error_5xx_rate=0.15, burst_429_rate=0.05, burst_length=2, drop_rate=0.1, seed=5
    )
    server = make_http_sandbox(faults=faults)
    retry = RetryPolicy(max_attempts=12, base_delay=0.005, max_delay=0.02)
    client = make_client(server, retry=retry, limiter=TokenBucket(1000, min_rate=500))
    ids = [f"UCF{n:07d}" for n in range(1, 41)]

    def read(n: int) -> object:
        if n % 2:
            return client.get_user(ids[n // 2])["primary_id"]
        return len(client.get_code_table("UserGroups")["row"])

    results = client.map_concurrently(read, range(80), max_workers=8)
    assert len(results) == 80
    assert results[1::2] == ids
    summary = client.ledger.summary()
    assert summary.retries > 0
    outcomes = {o for by in summary.by_endpoint.values() for o in by}
    assert {"200", "500", NETWORK_FAILURE} <= outcomes
    statuses = {e.status for e in server.request_log.entries}
    assert {0, 200, 500} <= statuses
    successes = sum(int(by.get("200", 0)) for by in summary.by_endpoint.values())
    assert successes == 80
    assert summary.calls == 80 + summary.retries


def test_api_error_base_for_unmapped_codes(
    make_sandbox: SandboxFactory, make_client: ClientFactory
) -> None:
    """An Alma code with no special meaning (invalid job id 402216) is a plain AlmaApiError."""
    client = make_client(make_sandbox())
    with pytest.raises(AlmaApiError) as caught:
        client.run_job("M999999", {})
    assert type(caught.value) is AlmaApiError
    assert caught.value.alma_code == "402216"
