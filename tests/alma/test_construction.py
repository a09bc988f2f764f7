"""Building a client: base URL by region or ALMA_API_URL, key from the named variable."""

from __future__ import annotations

from dataclasses import replace

import pytest

from reconciler import alma
from reconciler.alma import AlmaClient, TransportResponse
from reconciler.alma.regions import GATEWAYS, api_root
from reconciler.errors import UsageError
from reconciler.model import Institution, Region

from .fakes import CANARY_KEY, KEY_ENV


@pytest.mark.parametrize(
    ("region", "host"),
    [
        (Region.NA, "https://api-na.hosted.exlibrisgroup.com"),
        (Region.EU, "https://api-eu.hosted.exlibrisgroup.com"),
        (Region.AP, "https://api-ap.hosted.exlibrisgroup.com"),
        (Region.APS, "https://api-aps.hosted.exlibrisgroup.com"),
        (Region.CA, "https://api-ca.hosted.exlibrisgroup.com"),
        (Region.CN, "https://api-cn.hosted.exlibrisgroup.com.cn"),
    ],
)
def test_every_region_has_its_gateway(region: Region, host: str) -> None:
    """Each region maps to its Ex Libris gateway, with /almaws/v1 appended."""
    assert api_root(region, {}) == host + "/almaws/v1"


def test_every_region_is_covered() -> None:
    """No region in the model lacks a gateway."""
    assert set(GATEWAYS) == set(Region)


@pytest.mark.parametrize(
    "override",
    ["http://127.0.0.1:8080", "http://127.0.0.1:8080/", "http://127.0.0.1:8080/almaws/v1/"],
)
def test_alma_api_url_overrides_the_region(override: str) -> None:
    """ALMA_API_URL wins, with or without a trailing slash or /almaws/v1."""
    assert api_root(Region.CN, {"ALMA_API_URL": override}) == "http://127.0.0.1:8080/almaws/v1"


@pytest.mark.parametrize("bad", ["127.0.0.1:8080", "ftp://x", "http://x/?apikey=1"])
def test_malformed_alma_api_url_is_a_usage_error(bad: str) -> None:
    """A URL without http(s) or with a query string is refused with a clear message."""
    with pytest.raises(UsageError, match="ALMA_API_URL"):
        api_root(Region.NA, {"ALMA_API_URL": bad})


def test_for_institution_without_key_names_the_variable(institution: Institution) -> None:
    """No key in the environment: a usage error that names ALMA_API_KEY_TEST."""
    with pytest.raises(UsageError, match=KEY_ENV):
        AlmaClient.for_institution(institution, env={})


def test_injected_transport_needs_no_key(institution: Institution) -> None:
    """A given transport (in-process sandbox, test double) is used as is, without a key."""
    sent: list[tuple[str, str]] = []

    class Recording:
        def send(
            self,
            method: str,
            path: str,
            params: object,
            json_body: object | None,
            *,
            deadline: float | None = None,
        ) -> TransportResponse:
            sent.append((method, path))
            return TransportResponse(200, {}, b'{"user": [], "total_record_count": 3}')

    client = AlmaClient.for_institution(institution, env={}, transport=Recording())
    assert client.count_users("user_group~01") == 3
    assert sent == [("GET", "/users")]


def test_client_repr_names_the_institution_not_the_key(institution: Institution) -> None:
    """The client's repr shows the slug and base URL, never the key."""
    env = {KEY_ENV: CANARY_KEY}
    with AlmaClient.for_institution(institution, env=env) as client:
        text = repr(client)
    assert "test" in text
    assert "api-na.hosted.exlibrisgroup.com" in text
    assert CANARY_KEY not in text


def test_rate_comes_from_the_institution(institution: Institution) -> None:
    """The limiter runs at the institution's rate_limit_per_second."""
    slow = replace(institution, rate_limit_per_second=5.0)
    with AlmaClient.for_institution(slow, env={KEY_ENV: CANARY_KEY}) as client:
        assert client.limiter.rate == 5.0


def test_public_names_are_exported() -> None:
    """Every name in `reconciler.alma.__all__` exists, so callers import from the package."""
    assert all(hasattr(alma, name) for name in alma.__all__)
    assert "AlmaClient" in alma.__all__
