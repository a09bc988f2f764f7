"""`AlmaClient`: typed Alma endpoints for one institution, with its own limiter and ledger.

Design decision: one client per institution, because Alma's per-second and daily thresholds are
per institution. The endpoint groups live in their own modules (users, configuration, bulk,
analytics) and are mixed in here, so this class only builds the plumbing and exposes the run's
numbers; every call goes through one `Requester`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from types import TracebackType
from typing import Self, TypeVar

from reconciler.alma.analytics import AnalyticsEndpoints
from reconciler.alma.bulk import SetAndJobEndpoints
from reconciler.alma.concurrency import DEFAULT_WORKERS, iter_concurrently, map_concurrently
from reconciler.alma.configuration import ConfigurationEndpoints
from reconciler.alma.credentials import read_api_key
from reconciler.alma.ledger import CallLedger
from reconciler.alma.ratelimit import TokenBucket
from reconciler.alma.regions import api_root
from reconciler.alma.requesting import Requester
from reconciler.alma.retry import RetryPolicy
from reconciler.alma.transport import DEFAULT_TIMEOUTS, HttpTransport, Timeouts, Transport
from reconciler.alma.users import UserEndpoints
from reconciler.model import Institution

T = TypeVar("T")
R = TypeVar("R")


class AlmaClient(UserEndpoints, ConfigurationEndpoints, SetAndJobEndpoints, AnalyticsEndpoints):
    """The Alma API of one institution: users, tables, sets, jobs, profiles and Analytics."""

    def __init__(
        self,
        requester: Requester,
        *,
        name: str = "",
        max_workers: int = DEFAULT_WORKERS,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        self._requester = requester
        self.name = name
        self.max_workers = max_workers
        self._on_close = on_close

    @classmethod
    def for_institution(
        cls,
        institution: Institution,
        env: Mapping[str, str] = os.environ,
        transport: Transport | None = None,
        ledger: CallLedger | None = None,
        *,
        retry: RetryPolicy | None = None,
        limiter: TokenBucket | None = None,
        shared_limiter: TokenBucket | None = None,
        max_workers: int = DEFAULT_WORKERS,
        timeouts: Timeouts = DEFAULT_TIMEOUTS,
    ) -> AlmaClient:
        """A client for `institution`: base URL from its region or ALMA_API_URL, key from the
        variable its `api_key_env` names. A given `transport` (a test double, an in-process
        sandbox) replaces HTTP, and then no key is read: the transport owns authentication."""
        on_close: Callable[[], None] | None = None
        if transport is None:
            key = read_api_key(institution.api_key_env, env)
            http = HttpTransport(
                api_root(institution.region, env),
                key,
                timeouts=timeouts,
                pool_size=max(max_workers, 1) * 2,
            )
            transport, on_close = http, http.close
        requester = Requester(
            transport,
            limiter=limiter or TokenBucket(institution.rate_limit_per_second),
            retry=retry or RetryPolicy(),
            ledger=ledger or CallLedger(),
            call_timeout=timeouts.call,
            shared_limiter=shared_limiter,
        )
        return cls(requester, name=institution.slug, max_workers=max_workers, on_close=on_close)

    @property
    def ledger(self) -> CallLedger:
        """Counts of this client's calls, retries and waits, for run reports."""
        return self._requester.ledger

    @property
    def limiter(self) -> TokenBucket:
        return self._requester.limiter

    @property
    def api_remaining(self) -> int | None:
        """The latest `X-Exl-Api-Remaining`: calls left today (None before the first answer)."""
        return self._requester.api_remaining

    def map_concurrently(
        self, fn: Callable[[T], R], items: Iterable[T], *, max_workers: int | None = None
    ) -> list[R]:
        """Run `fn` over `items` on worker threads; the shared limiter keeps the pace."""
        return map_concurrently(fn, items, max_workers=max_workers or self.max_workers)

    def iter_concurrently(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        """`fn` over `items` on worker threads, in item order, a bounded window at a time."""
        return iter_concurrently(fn, items, max_workers=self.max_workers)

    def close(self) -> None:
        """Release pooled connections (the client is unusable afterwards)."""
        if self._on_close is not None:
            self._on_close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"AlmaClient({self.name!r}, {self._requester!r})"
