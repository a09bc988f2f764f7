"""The Alma REST API client: the only package in the project that knows HTTP.

`AlmaClient.for_institution(institution)` is the entry point. Failures are the `AlmaApiError`
family from `reconciler.errors`; nothing of `requests` escapes this package. Raw records are
`TypedDict`s from `payloads`; read their fields with the helpers in `normalise`.
"""

from reconciler.alma.analytics import ReportPage
from reconciler.alma.bulk import MAX_SET_MEMBERS_PER_CALL, JobRun
from reconciler.alma.client import AlmaClient
from reconciler.alma.ledger import CallLedger, LedgerSummary
from reconciler.alma.ratelimit import TokenBucket
from reconciler.alma.retry import RetryPolicy
from reconciler.alma.transport import Timeouts, Transport, TransportResponse
from reconciler.alma.users import UserPage

__all__ = [
    "MAX_SET_MEMBERS_PER_CALL",
    "AlmaClient",
    "CallLedger",
    "JobRun",
    "LedgerSummary",
    "ReportPage",
    "RetryPolicy",
    "Timeouts",
    "TokenBucket",
    "Transport",
    "TransportResponse",
    "UserPage",
]
