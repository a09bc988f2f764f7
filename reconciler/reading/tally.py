"""A group's census kept as running counts: a user is counted and dropped on the spot.

Design decisions:
- Nothing here keeps a user record, so a census costs the same memory for 10 users as for
  100,000 (what a full-consortium survey needs, issue 11).
- The member fingerprint is a set digest: the sum, modulo 2**256, of each member id's sha256.
  It does not depend on the order Alma returns users in (with `q` it is no order at all), and
  it needs no sorted list of ids. The reader only feeds each distinct user once (it dedupes
  before counting), so the sum is that of a set.
- `purge_candidates` are inactive or expired users. List items carry null loans, requests and
  fees, so from a list nobody shows as blocked; only a per-user GET with
  `expand=loans,requests,fees` knows, and apply re-checks each user that way before deleting.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import date
from typing import Any

from reconciler.alma.normalise import as_date, as_float, code_of
from reconciler.model.live import GroupCensus, UserBreakdown

FINGERPRINT_PREFIX = "sha256-set:"
_MODULUS = 1 << 256


class GroupTally:
    """Counts, newest status date and set digest of one group's members, fed one by one."""

    def __init__(self, code: str, today: date) -> None:
        self.code = code
        self.today = today
        self.counts: dict[str, int] = dict.fromkeys(UserBreakdown.__dataclass_fields__, 0)
        self._digest_sum = 0
        self.newest: date | None = None

    @property
    def members(self) -> int:
        return self.counts["total"]

    def add(self, user: Mapping[str, Any]) -> None:
        """Count one member; the caller guarantees each user comes once."""
        member = str(user.get("primary_id", ""))
        digest = hashlib.sha256(member.encode()).digest()
        self._digest_sum = (self._digest_sum + int.from_bytes(digest)) % _MODULUS
        for name, on in user_flags(user, self.today).items():
            self.counts[name] += int(on)
        # Alma's user JSON has no modification date; status_date is the closest it gives
        changed = as_date(user.get("status_date"))
        if changed and (self.newest is None or changed > self.newest):
            self.newest = changed

    def census(self, *, exact: bool, not_exact_because: str = "") -> GroupCensus:
        return GroupCensus(
            code=self.code,
            breakdown=UserBreakdown(**self.counts),
            member_fingerprint=FINGERPRINT_PREFIX + f"{self._digest_sum:064x}",
            newest_modification=self.newest,
            exact=exact,
            not_exact_because="" if exact else not_exact_because,
        )


def _count(user: Mapping[str, Any], key: str) -> float:
    """loans/requests/fees arrive as {"value": "3"}, a bare number, or null when not expanded."""
    value = user.get(key)
    if isinstance(value, Mapping):
        value = value.get("value")
    return as_float(value, default=0.0) or 0.0


def user_flags(user: Mapping[str, Any], today: date) -> dict[str, bool]:
    """What one user counts towards, by UserBreakdown field name."""
    inactive = code_of(user.get("status")) == "INACTIVE"
    expiry = as_date(user.get("expiry_date"))
    expired = expiry is not None and expiry < today
    loans, requests, fees = (_count(user, k) > 0 for k in ("loans", "requests", "fees"))
    candidate = inactive or expired
    external = code_of(user.get("account_type")) == "EXTERNAL"
    return {
        "total": True,
        "active": not inactive,
        "inactive": inactive,
        "expired": expired,
        "internal": not external,
        "external": external,
        "with_loans": loans,
        "with_requests": requests,
        "with_fees": fees,
        "purge_candidates": candidate,
        "purgeable": candidate and not (loans or requests or fees),
        "blocked_by_loans": candidate and loans,
        "blocked_by_requests": candidate and requests,
        "blocked_by_fees": candidate and fees,
    }
