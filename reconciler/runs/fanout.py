"""One fan-out over institutions: each its own call ledger, side by side, results typed per slug.

Alma's limits are per institution, so each institution gets its own client (its own token
bucket and ledger) and the institutions run side by side on a thread pool; within one,
calls run concurrently under its bucket. One institution's failure (a missing key, Alma
down) does not stop the others.

Design decisions:
- A failure stays a `ReconcilerError` in the result, never a string: the caller can tell a
  stale plan from Alma being down, and the CLI words it once.
- Only `ReconcilerError` is caught. Anything else is a bug and propagates (the pool re-raises
  it in the caller), rather than becoming one more institution that "could not be read".
- The fan-out opens each institution's client (through `connect`, so a test or the sandbox
  can hand in another transport) with a ledger of its own, and closes it after the work: the
  calls an institution made are counted even when its work failed halfway.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from reconciler.alma import AlmaClient, CallLedger, LedgerSummary
from reconciler.alma.concurrency import FanOutPool, coarse_thread_switching
from reconciler.alma.ratelimit import consortium_limiter
from reconciler.errors import ReconcilerError
from reconciler.model import Institution

T = TypeVar("T")
Progress = Callable[[str], None]
Connect = Callable[[Institution, CallLedger], AlmaClient]


def connect_with(env: Mapping[str, str]) -> Connect:
    """Clients over HTTP, with base URL and API key from `env` (as `AlmaClient` reads them),
    all under the optional cap across institutions that `env` may set."""
    shared = consortium_limiter(env)

    def connect(institution: Institution, ledger: CallLedger) -> AlmaClient:
        return AlmaClient.for_institution(institution, env, ledger=ledger, shared_limiter=shared)

    return connect


@dataclass(frozen=True)
class InstitutionRun(Generic[T]):
    """What the work returned for one institution, or the error that stopped it; its calls."""

    slug: str
    result: T | ReconcilerError
    ledger: LedgerSummary

    @property
    def error(self) -> ReconcilerError | None:
        return self.result if isinstance(self.result, ReconcilerError) else None


def for_each_institution(
    institutions: Iterable[Institution],
    work: Callable[[Institution, AlmaClient], T],
    *,
    connect: Connect,
    parallel: int = 40,
    progress: Progress | None = None,
) -> dict[str, InstitutionRun[T]]:
    """Run `work` with a client of each institution, up to `parallel` at once, by slug."""

    def run_one(institution: Institution) -> InstitutionRun[T]:
        ledger = CallLedger()
        result: T | ReconcilerError
        try:
            with connect(institution, ledger) as client:
                result = work(institution, client)
        except ReconcilerError as error:
            result = error
        if progress is not None:
            progress(institution.slug)
        return InstitutionRun(institution.slug, result, ledger.summary())

    ordered = sorted(institutions, key=lambda institution: institution.slug)
    if not ordered:
        return {}
    # hundreds of worker threads: fewer, longer turns of the GIL (alma/concurrency.py)
    with coarse_thread_switching(), FanOutPool(max(1, min(parallel, len(ordered)))) as pool:
        futures = [pool.submit(run_one, institution) for institution in ordered]
    return {run.slug: run for run in (future.result() for future in futures)}


def partition(
    runs: Mapping[str, InstitutionRun[T]],
) -> tuple[dict[str, T], dict[str, ReconcilerError]]:
    """The results of the institutions that succeeded, and the errors of those that failed."""
    done: dict[str, T] = {}
    failed: dict[str, ReconcilerError] = {}
    for slug, run in runs.items():
        if isinstance(run.result, ReconcilerError):
            failed[slug] = run.result
        else:
            done[slug] = run.result
    return done, failed
