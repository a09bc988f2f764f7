"""Nothing of the HTTP library leaks out of `reconciler/alma`; the key stays in one header."""

from __future__ import annotations

import ast
import logging
import ssl
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

import reconciler.alma
from reconciler.alma import AlmaClient, Timeouts
from reconciler.alma.credentials import ApiKey, read_api_key
from reconciler.alma.retry import RetryPolicy
from reconciler.alma.transport import query_string
from reconciler.alma.wire import BrokenAnswer
from reconciler.errors import AlmaApiError, AlmaNetworkError, AlmaNotFoundError, UsageError
from reconciler.model import Institution

from .fakes import CANARY_KEY, KEY_ENV, Canned, ClientFactory, FakeAlma, SleepRecorder, json_error

ALMA_PACKAGE = Path(reconciler.alma.__file__).parent


def test_alma_api_error_is_not_a_transport_exception() -> None:
    """Our error tree does not inherit from the transport's, so callers never need to catch
    socket errors or the wire's own."""
    assert not issubclass(AlmaApiError, BrokenAnswer)
    assert not issubclass(AlmaNetworkError, BrokenAnswer)
    assert not issubclass(AlmaApiError, OSError)


def test_no_module_of_the_client_imports_an_http_library() -> None:
    """HTTP is the wire module's own: http.client, urllib3 and requests are imported by no
    module of alma/."""
    importers = []
    for module in ALMA_PACKAGE.glob("*.py"):
        tree = ast.parse(module.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for library in ("http.client", "urllib3", "requests"):
                if any(name == library or name.startswith(f"{library}.") for name in names):
                    importers.append(f"{library}: {module.name}")
    assert importers == []


def test_dropped_connection_is_an_alma_network_error(
    fake_alma: FakeAlma, make_client: ClientFactory, sleeps: SleepRecorder
) -> None:
    """A connection closed without an answer surfaces as AlmaNetworkError, the cause chained."""
    fake_alma.script("GET", "/users/u1", Canned(drop=True))
    client = make_client(retry=RetryPolicy(max_attempts=1, sleep=sleeps))
    with pytest.raises(AlmaNetworkError) as caught:
        client.get_user("u1")
    assert isinstance(caught.value.__cause__, ConnectionError)
    assert caught.value.status is None
    assert "GET /users/{user_id}" in str(caught.value)


def test_truncated_body_is_an_alma_network_error(
    fake_alma: FakeAlma, make_client: ClientFactory, sleeps: SleepRecorder
) -> None:
    """A body cut short mid-transfer is a network error, not half a record."""
    fake_alma.script("GET", "/users/u1", Canned(body={"primary_id": "u1"}, truncate=True))
    client = make_client(retry=RetryPolicy(max_attempts=1, sleep=sleeps))
    with pytest.raises(AlmaNetworkError) as caught:
        client.get_user("u1")
    assert isinstance(caught.value.__cause__, BrokenAnswer)
    assert "bytes short" in str(caught.value.__cause__)
    assert "dropped" in str(caught.value)


def test_timeout_is_an_alma_network_error(
    fake_alma: FakeAlma, make_client: ClientFactory, sleeps: SleepRecorder
) -> None:
    """A read timeout surfaces as AlmaNetworkError chained from the socket's timeout."""
    fake_alma.script("GET", "/users/slow", Canned(body={"primary_id": "slow"}, delay=0.6))
    client = make_client(
        retry=RetryPolicy(max_attempts=1, sleep=sleeps), timeouts=Timeouts(connect=1, read=0.2)
    )
    with pytest.raises(AlmaNetworkError) as caught:
        client.get_user("slow")
    assert isinstance(caught.value.__cause__, TimeoutError)
    assert "timed out" in str(caught.value)


def test_connection_refused_is_an_alma_network_error(
    institution: Institution, sleeps: SleepRecorder
) -> None:
    """Nothing listening on the port is a network error too."""
    env = {"ALMA_API_URL": "http://127.0.0.1:9", KEY_ENV: CANARY_KEY}
    with (
        AlmaClient.for_institution(
            institution, env=env, retry=RetryPolicy(max_attempts=1, sleep=sleeps)
        ) as client,
        pytest.raises(AlmaNetworkError),
    ):
        client.count_users("user_group~01")


def test_key_travels_only_in_the_authorization_header(
    fake_alma: FakeAlma, make_client: ClientFactory
) -> None:
    """The key is sent as `Authorization: apikey <key>`, never in the URL; JSON both ways."""
    fake_alma.script("PUT", "/users/u1", {"primary_id": "u1"})
    make_client().update_user("u1", {"primary_id": "u1"})
    (seen,) = fake_alma.seen("PUT", "/users/u1")
    assert seen.headers["authorization"] == f"apikey {CANARY_KEY}"
    assert seen.headers["accept"] == "application/json"
    assert seen.headers["content-type"] == "application/json"
    assert CANARY_KEY not in seen.raw_target
    assert "apikey" not in seen.raw_target.lower()


def test_canary_key_never_appears_in_messages_reprs_ledger_or_logs(
    fake_alma: FakeAlma,
    make_client: ClientFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Errors, reprs, the ledger summary and log records never contain the API key."""
    caplog.set_level(logging.DEBUG)
    fake_alma.script(
        "GET",
        "/users/u1",
        Canned(status=500, body=b"boom"),
        Canned(status=400, body=json_error("401861", "User with identifier u1 not found.")),
    )
    fake_alma.script("GET", "/users/gone", Canned(drop=True))
    client = make_client()
    texts = [repr(client), str(client), repr(client.ledger), repr(client._requester)]
    for user_id in ("u1", "gone"):
        with pytest.raises(AlmaApiError) as caught:
            client.get_user(user_id)
        texts += [str(caught.value), repr(caught.value)]
    texts.append(str(client.ledger.summary()))
    texts += [record.getMessage() for record in caplog.records]
    assert caplog.records, "the retries should have been logged"
    assert not any(CANARY_KEY in text for text in texts)


def test_api_key_object_masks_itself() -> None:
    """`repr` and `str` of the key object show a mask, not the key."""
    key = ApiKey(CANARY_KEY)
    assert CANARY_KEY not in repr(key)
    assert CANARY_KEY not in str(key)
    assert CANARY_KEY not in f"{key}"


@pytest.mark.parametrize("value", [None, "", "   "])
def test_missing_key_names_the_variable(value: str | None) -> None:
    """A missing or empty key variable is a usage error naming the variable."""
    env = {} if value is None else {KEY_ENV: value}
    with pytest.raises(UsageError, match=KEY_ENV):
        read_api_key(KEY_ENV, env)


def test_malformed_key_is_refused_without_showing_it() -> None:
    """A key with spaces or control characters is refused, and the message omits the value."""
    with pytest.raises(UsageError) as caught:
        read_api_key(KEY_ENV, {KEY_ENV: "CANARY KEY\n7f3a9"})
    assert "CANARY" not in str(caught.value)


def test_user_ids_are_url_quoted_and_kept_out_of_messages(
    fake_alma: FakeAlma, make_client: ClientFactory
) -> None:
    """An id with `/`, `?` or spaces stays one path segment, and errors show the placeholder."""
    user_id = "a/b?c d#é"
    fake_alma.script(
        "GET",
        "/users/a%2Fb%3Fc%20d%23%C3%A9",
        Canned(status=400, body=json_error("401861", f"User with identifier {user_id} not found")),
    )
    with pytest.raises(AlmaNotFoundError) as caught:
        make_client().get_user(user_id)
    assert user_id not in str(caught.value)
    assert str(caught.value).startswith("GET /users/{user_id} failed, HTTP 400")


@pytest.mark.parametrize("user_id", ["", ".", ".."])
def test_empty_or_dot_ids_never_reach_the_wire(
    fake_alma: FakeAlma, make_client: ClientFactory, user_id: str
) -> None:
    """DELETE /users/{user_id} with an empty or dot id is refused before any request."""
    with pytest.raises(ValueError, match="user_id"):
        make_client().delete_user(user_id)
    assert fake_alma.requests == []


def test_https_is_verified_against_certifi() -> None:
    """An https Alma is reached with certificate and host name checks on, against certifi."""
    import certifi  # noqa: PLC0415 - only this test needs it

    from reconciler.alma.transport import HttpTransport  # noqa: PLC0415

    transport = HttpTransport(
        "https://api-na.hosted.exlibrisgroup.com/almaws/v1", ApiKey(CANARY_KEY)
    )
    pool = transport._pool  # the TLS settings are the point of this test
    assert (pool.host, pool.port) == ("api-na.hosted.exlibrisgroup.com", 443)
    assert pool.tls is not None
    assert pool.tls.verify_mode == ssl.CERT_REQUIRED
    assert pool.tls.check_hostname
    certifis = ssl.create_default_context(cafile=certifi.where()).get_ca_certs()
    assert certifis
    # certifi's authorities, not the system's; as a set, since OpenSSL sorts its store in
    # place the first time a handshake looks a certificate up (the shared context may have
    # made one in an earlier test)
    assert _authorities(pool.tls.get_ca_certs()) == _authorities(certifis)
    transport.close()


def _authorities(certificates: list[Any]) -> set[str]:
    return {f"{c['serialNumber']} {c['subject']}" for c in certificates}


@given(st.dictionaries(st.text(max_size=8), st.text(max_size=12)))
def test_the_query_string_is_what_urlencode_makes(params: dict[str, str]) -> None:
    """Plain names and values skip quoting; the string is still urlencode's, byte for byte."""
    assert query_string(params) == urlencode(params)
