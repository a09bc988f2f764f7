"""One Alma call, done properly: rate limit, send, record, read errors, retry, repeat.

Design decision: endpoints are named by a path *template* (`/users/{user_id}`) plus values, not
by a ready-made path. The template keys the ledger, values are URL-quoted in one place, and
placeholders that hold personal data (`{user_id}`) stay as placeholders in every message, log
line and ledger entry, while the real value only travels in the request itself.
"""

from __future__ import annotations

import logging
import string
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import quote

from reconciler.alma.errors import error_for_response
from reconciler.alma.ledger import NETWORK_FAILURE, CallLedger
from reconciler.alma.normalise import parse_json
from reconciler.alma.ratelimit import TokenBucket
from reconciler.alma.retry import RetryPolicy, is_idempotent
from reconciler.alma.transport import DEFAULT_TIMEOUTS, Transport
from reconciler.errors import (
    AlmaApiError,
    AlmaCall,
    AlmaNetworkError,
    AlmaPerSecondLimitError,
    AlmaUnexpectedBodyError,
)

logger = logging.getLogger(__name__)

PERSONAL_PLACEHOLDERS = frozenset({"user_id"})
REMAINING_HEADER = "x-exl-api-remaining"

ParamValue = str | int | bool | None


@dataclass(frozen=True)
class Reply:
    """A successful answer: the call it answers, its body to read as JSON, and what the call's
    `typed` decoder made of it (None when it was not given one or declined the body)."""

    call: AlmaCall
    status: int
    body: bytes
    typed: object = None

    def json(self) -> Any:
        """The decoded body (None when empty, as after a DELETE)."""
        if not self.body.strip():
            return None
        try:
            return parse_json(self.body)
        except ValueError as error:
            raise AlmaUnexpectedBodyError(
                self.call, status=self.status, alma_message="the answer is not JSON"
            ) from error

    def json_object(self) -> dict[str, Any]:
        """The decoded body, which must be a JSON object."""
        document = self.json()
        if not isinstance(document, dict):
            raise AlmaUnexpectedBodyError(
                self.call, status=self.status, alma_message="expected a JSON object"
            )
        return document


@dataclass(frozen=True)
class _Request:
    """A call ready to send: the real path for the wire, the redacted call for messages."""

    method: str
    path: str
    call: AlmaCall
    endpoint: str
    query: dict[str, str]
    json_body: object | None
    redactions: dict[str, str]


def _prepare(
    method: str,
    template: str,
    values: Mapping[str, str],
    params: Mapping[str, ParamValue],
    json_body: object | None,
) -> _Request:
    method = method.upper()
    return _Request(
        method=method,
        path=_fill(template, values, personal=frozenset()),
        call=AlmaCall(method, _fill(template, values, personal=PERSONAL_PLACEHOLDERS)),
        endpoint=f"{method} {template}",
        query={name: _param(value) for name, value in params.items() if value is not None},
        json_body=json_body,
        redactions=_redactions(values),
    )


class Requester:
    """Runs calls for one institution through its limiter, retry policy and ledger."""

    def __init__(
        self,
        transport: Transport,
        *,
        limiter: TokenBucket,
        retry: RetryPolicy,
        ledger: CallLedger,
        call_timeout: float = DEFAULT_TIMEOUTS.call,
        shared_limiter: TokenBucket | None = None,
    ) -> None:
        self.transport = transport
        self.limiter = limiter
        # an optional cap across institutions (consortium_limiter); never slowed by a 429,
        # which speaks of one institution's allowance
        self.shared_limiter = shared_limiter
        self.retry = retry
        self.ledger = ledger
        # one budget for every try, back-off and byte of a call: a server that never answers
        # costs this long, not max_attempts times the read timeout
        self.call_timeout = call_timeout

    def __repr__(self) -> str:
        return f"Requester({self.transport!r}, {self.limiter!r})"

    def call(
        self,
        method: str,
        template: str,
        *,
        path_values: Mapping[str, str] | None = None,
        params: Mapping[str, ParamValue] | None = None,
        json_body: object | None = None,
        idempotent: bool | None = None,
        typed: Callable[[bytes], object | None] | None = None,
    ) -> Reply:
        """Send `method template` with retries; raise an `AlmaApiError` if it finally fails.

        `idempotent` overrides the method's default (GET and PUT repeat safely, POST and
        DELETE do not) for calls the caller knows can be sent twice.

        `typed` decodes a 2xx body in a declared shape, or returns None. It must return None
        for any body with `errorsExist` or `web_service_result` at its top level (Alma's error
        envelope, bare or wrapped): a body it accepts is then known to be no error envelope
        without searching it for `errorsExist`, which on a census page (200 KB of JSON) cost
        more than a tenth of the client's CPU per page (issue 11). A body it declines takes the
        usual way: the error check, retries, and `Reply.typed` None.
        """
        request = _prepare(method, template, path_values or {}, params or {}, json_body)
        may_repeat = is_idempotent(request.method) if idempotent is None else idempotent
        deadline = time.monotonic() + self.call_timeout
        attempt = 0
        while True:
            attempt += 1
            outcome = self._try_once(request, deadline, typed)
            if isinstance(outcome, Reply):
                return outcome
            error, cause = outcome
            if not self.retry.should_retry(error, attempt, idempotent=may_repeat):
                raise error from cause
            delay = self.retry.delay(attempt)
            if time.monotonic() + delay >= deadline:
                raise error from cause  # no time left for another try within the budget
            self._back_off(request.endpoint, attempt, error, delay)

    def _try_once(
        self,
        request: _Request,
        deadline: float,
        typed: Callable[[bytes], object | None] | None = None,
    ) -> Reply | tuple[AlmaApiError, BaseException | None]:
        self.ledger.record_limiter_wait(self.limiter.acquire())
        if self.shared_limiter is not None:
            self.ledger.record_limiter_wait(self.shared_limiter.acquire())
        try:
            response = self.transport.send(
                request.method, request.path, request.query, request.json_body, deadline=deadline
            )
        except AlmaNetworkError as dropped:
            self.ledger.record_call(request.endpoint, NETWORK_FAILURE)
            # Rebuilt so the message shows the redacted path the rest of the tool uses.
            rebuilt = AlmaNetworkError(request.call, status=None, alma_message=dropped.alma_message)
            return rebuilt, dropped.__cause__ or dropped
        self.ledger.record_call(request.endpoint, response.status)
        self._note_remaining(response.headers)
        if typed is not None and 200 <= response.status < 300:
            decoded = typed(response.body)
            if decoded is not None:  # in its shape, so not an error envelope (see `call`)
                return Reply(request.call, response.status, response.body, decoded)
        error = error_for_response(
            request.call,
            response.status,
            response.headers.get("content-type", ""),
            response.body,
            redactions=request.redactions,
        )
        if error is None:
            return Reply(request.call, response.status, response.body)
        if isinstance(error, AlmaPerSecondLimitError):
            # Another tool may share the institution's allowance: slow down for everyone.
            self.limiter.slow_down()
            self.ledger.record_throttled()
        return error, None

    def _back_off(self, endpoint: str, attempt: int, error: AlmaApiError, delay: float) -> None:
        # retries are normal under load and counted in the ledger: INFO, shown with --verbose
        logger.info(
            "%s: try %d of %d failed (%s); retrying in %.1f s",
            endpoint,
            attempt,
            self.retry.max_attempts,
            _short(error),
            delay,
        )
        self.ledger.record_retry(endpoint)
        if delay > 0:
            self.retry.sleep(delay)
            self.ledger.record_backoff(delay)

    def _note_remaining(self, headers: Mapping[str, str]) -> None:
        raw = headers.get(REMAINING_HEADER, "").strip()
        if raw.isdigit():
            self.ledger.record_daily_calls_left(int(raw))

    @property
    def api_remaining(self) -> int | None:
        """The latest `X-Exl-Api-Remaining`: calls left in the institution's daily allowance."""
        return self.ledger.daily_calls_left


@cache
def _placeholders(template: str) -> frozenset[str]:
    """The `{names}` in a template: a handful of templates, parsed once each, not per call."""
    return frozenset(name for _, name, _, _ in string.Formatter().parse(template) if name)


def _fill(template: str, values: Mapping[str, str], *, personal: frozenset[str]) -> str:
    names = _placeholders(template)
    missing = names - values.keys()
    if missing:
        raise ValueError(f"no value for {', '.join(sorted(missing))} in {template}")
    # An empty id would turn DELETE /users/{user_id} into DELETE /users/, and "." or ".."
    # would be folded away by URL normalisation: neither may reach the wire.
    unusable = sorted(name for name in names if str(values[name]).strip(".") == "")
    if unusable:
        raise ValueError(f"empty or dot-only value for {', '.join(unusable)} in {template}")
    # safe="" so that a "/" or "?" inside an id cannot change which endpoint is called.
    return template.format_map(
        {
            name: "{" + name + "}" if name in personal else quote(str(values[name]), safe="")
            for name in names
        }
    )


def _redactions(values: Mapping[str, str]) -> dict[str, str]:
    redactions: dict[str, str] = {}
    for name in PERSONAL_PLACEHOLDERS & values.keys():
        value = str(values[name])
        redactions[value] = "{" + name + "}"
        redactions[quote(value, safe="")] = "{" + name + "}"
    return redactions


def _param(value: str | int | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _short(error: AlmaApiError) -> str:
    parts = [f"HTTP {error.status}" if error.status is not None else "no answer"]
    if error.alma_code:
        parts.append(error.alma_code)
    elif error.alma_message:
        parts.append(error.alma_message)
    return " ".join(parts)
