"""The API key: read from the environment variable an institution names, then kept out of sight.

Design decision: the key lives in an `ApiKey` object whose `repr` and `str` are a fixed mask, so
it cannot reach a log line, an exception message or a test failure by accident; the one place
that needs the real value (the Authorization header in the transport) asks for it explicitly.
"""

from __future__ import annotations

from collections.abc import Mapping

from reconciler.errors import UsageError

_MASK = "ApiKey(****)"


class ApiKey:
    """An Alma API key that never prints itself."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def header_value(self) -> str:
        """The `Authorization` header value; the only way to send the key."""
        return f"apikey {self._value}"

    def secret_bytes(self) -> bytes:
        """The key itself, only so that the transport can scrub it from servers' answers."""
        return self._value.encode("utf-8")

    def __repr__(self) -> str:
        return _MASK

    __str__ = __repr__


def read_api_key(variable: str, env: Mapping[str, str]) -> ApiKey:
    """The key held in environment variable `variable`; errors name the variable, never a value."""
    value = env.get(variable, "").strip()
    if not value:
        raise UsageError(
            f"environment variable {variable} is not set or empty: put the institution's "
            "Alma API key in it (institution.yaml names it in api_key_env)"
        )
    # A key that cannot travel in an HTTP header would fail deep inside requests with the
    # header (and so the key) in the message; refuse it here instead.
    if not value.isascii() or not value.isprintable() or " " in value:
        raise UsageError(
            f"environment variable {variable} does not hold a valid Alma API key "
            "(unexpected spaces or characters)"
        )
    return ApiKey(value)
