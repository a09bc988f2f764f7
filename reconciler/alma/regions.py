"""Where an institution's Alma API lives: one Ex Libris gateway per region.

Design decision: `ALMA_API_URL` wins over the region for every institution, so the sandbox, a
proxy or a test server can stand in for Alma without touching `institution.yaml`. The value is a
host root (`http://127.0.0.1:8080`); a value that already ends in `/almaws/v1` is accepted too,
because people copy URLs from the Ex Libris docs. It must be https unless it is loopback: the
API key travels in a header, readable by anyone on the path of a plain-http request.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from urllib.parse import urlsplit

from reconciler.errors import UsageError
from reconciler.model import Region

API_URL_ENV = "ALMA_API_URL"
API_PREFIX = "/almaws/v1"
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})

GATEWAYS: Mapping[Region, str] = {
    Region.NA: "https://api-na.hosted.exlibrisgroup.com",
    Region.EU: "https://api-eu.hosted.exlibrisgroup.com",
    Region.AP: "https://api-ap.hosted.exlibrisgroup.com",
    Region.APS: "https://api-aps.hosted.exlibrisgroup.com",
    Region.CA: "https://api-ca.hosted.exlibrisgroup.com",
    # China is the one gateway outside exlibrisgroup.com.
    Region.CN: "https://api-cn.hosted.exlibrisgroup.com.cn",
}


def api_root(region: Region, env: Mapping[str, str]) -> str:
    """The URL that every `/almaws/v1/...` path is appended to, override first."""
    override = env.get(API_URL_ENV, "").strip()
    if override:
        return _clean_override(override)
    return GATEWAYS[region] + API_PREFIX


def _clean_override(url: str) -> str:
    if not url.startswith(("http://", "https://")):
        raise UsageError(
            f"{API_URL_ENV} must start with http:// or https:// (for example "
            "http://127.0.0.1:8080 for the sandbox)"
        )
    if "?" in url or "#" in url:
        raise UsageError(f"{API_URL_ENV} must be a plain URL without a query or fragment")
    require_safe_url(url)
    root = url.rstrip("/")
    if root.endswith(API_PREFIX):
        return root
    return root + API_PREFIX


def require_safe_url(url: str) -> str:
    """`url` if it is https, or http to a loopback address; UsageError otherwise."""
    parts = urlsplit(url)
    if parts.scheme == "https":
        return url
    if parts.scheme == "http" and _is_loopback(parts.hostname or ""):
        return url
    raise UsageError(
        "ALMA_API_URL must start with https:// (http:// is allowed only for 127.0.0.1, ::1 or "
        "localhost, such as the sandbox): the API key would cross the network unencrypted"
    )


def _is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
