"""An optional cap on calls per second across all institutions (ALMA_MAX_CALLS_PER_SECOND)."""

from __future__ import annotations

import pytest

from reconciler.alma import AlmaClient, TokenBucket
from reconciler.alma.ratelimit import CONSORTIUM_RATE_ENV, consortium_limiter
from reconciler.errors import UsageError

from .fakes import ClientFactory, FakeAlma


def test_unset_means_no_shared_cap() -> None:
    """Without the variable every institution keeps only its own bucket."""
    assert consortium_limiter({}) is None
    assert consortium_limiter({CONSORTIUM_RATE_ENV: "  "}) is None


def test_a_rate_gives_one_bucket_at_that_rate() -> None:
    """ALMA_MAX_CALLS_PER_SECOND=15 gives a 15/s bucket."""
    shared = consortium_limiter({CONSORTIUM_RATE_ENV: "15"})
    assert shared is not None
    assert shared.nominal_rate == 15.0


@pytest.mark.parametrize("bad", ["0", "-3", "fast", "inf", "nan"])
def test_a_bad_rate_is_a_one_line_usage_error(bad: str) -> None:
    """Zero, negative, infinite or non-numbers are refused, naming the variable."""
    with pytest.raises(UsageError, match=CONSORTIUM_RATE_ENV):
        consortium_limiter({CONSORTIUM_RATE_ENV: bad})


def test_every_institutions_calls_take_a_shared_token(
    fake_alma: FakeAlma, make_client: ClientFactory
) -> None:
    """Two institutions' clients with one shared bucket: it counts every call of both."""
    fake_alma.script("GET", "/conf/code-tables/UserGroups", {"name": "UserGroups", "row": []})
    waits: list[float] = []
    shared = TokenBucket(5, burst=1.0, sleep=waits.append)  # records waits, sleeps none
    clients: list[AlmaClient] = [make_client(shared_limiter=shared) for _ in range(2)]
    for _ in range(3):
        for client in clients:
            client.get_code_table("UserGroups")
    assert shared.stats().acquired == 6
    assert waits  # the shared cap, not only the institutions' own buckets, set the pace
