"""A group's census kept as running counts: a user is counted and dropped on the spot.

Design decisions:
- Nothing here keeps a user record, so a census costs the same memory for 10 users as for
  100,000 (what a full-consortium survey needs, issue 11).
- The member fingerprint is a set digest: the sum, modulo 2**256, of each member id's sha256.
  It does not depend on the order Alma returns users in (with `q` it is no order at all), and
  it needs no sorted list of ids. The reader only feeds each distinct user once (it dedupes
  before counting), so the sum is that of a set.
- Users are tallied by kind, the six facts the fourteen counts derive from (inactive, expired,
  external, with loans, requests, fees: at most 64 kinds), and the counts are made from the
  kinds once, in `census()`: per user, one small int instead of fourteen additions. With a quick
  way out for the null loans/requests/fees of list pages, that took the census from 15 to
  about 3 µs per user on recorded pages (process CPU, loaded 2-core machine; issue 11).
- Users arrive as `user_pages.CensusUser` Structs, read by attribute. A code field is a `Code`,
  a bare string or None and a count a `Count`, a number, a string or None (what the typed
  decoder lets through), so the per-user code checks the class once instead of calling the
  `normalise` helpers (2-3 of 18-20 µs per user, A/B in one sitting).
- `purge_candidates` are inactive or expired users. List items carry null loans, requests and
  fees, so from a list nobody shows as blocked; only a per-user GET with
  `expand=loans,requests,fees` knows, and apply re-checks each user that way before deleting.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from datetime import date
from functools import lru_cache

from reconciler.alma.normalise import as_date, as_float
from reconciler.alma.user_pages import CensusUser, Code, Count
from reconciler.model.live import GroupCensus, UserBreakdown

FINGERPRINT_PREFIX = "sha256-set:"
_MODULUS = 1 << 256


class GroupTally:
    """Counts, newest status date and set digest of one group's members, fed one by one."""

    def __init__(self, code: str, today: date) -> None:
        self.code = code
        self.today = today
        self.kinds: Counter[Kind] = Counter()
        self._digest_sum = 0
        self.newest: date | None = None

    @property
    def members(self) -> int:
        return self.kinds.total()

    @property
    def counts(self) -> dict[str, int]:
        """Members per UserBreakdown field, made from the kinds seen."""
        counts = dict.fromkeys(UserBreakdown.__dataclass_fields__, 0)
        for kind, members in self.kinds.items():
            for name, on in flags_of(kind).items():
                counts[name] += members * on
        return counts

    def add(self, user: CensusUser, member_digest: bytes | None = None) -> None:
        """Count one member; the caller guarantees each user comes once. `member_digest`: the
        sha256 of the user's primary id, when the caller has it already (reading.exact)."""
        if member_digest is None:
            member_digest = hashlib.sha256(user.primary_id.encode()).digest()
        self.add_many((user,), (member_digest,))

    def add_many(self, users: Sequence[CensusUser], member_digests: Sequence[bytes]) -> None:
        """Count members of one page at once (one call, not one per user, on a path that runs
        once per user of the consortium); `member_digests[i]` is the sha256 of `users[i]`'s
        primary id. The caller guarantees each user comes once."""
        # summed without the modulus here: a few hundred bits more for 100,000 members is
        # cheaper than a division per user; census() reduces it once
        self._digest_sum += sum(map(int.from_bytes, member_digests))
        kinds, today, newest = self.kinds, self.today, self.newest
        for user in users:
            kinds[user_kind(user, today)] += 1
            # Alma's user JSON has no modification date; status_date is the closest it gives
            text = user.status_date
            if text is not None:
                changed = _date_of_text(text)
                if changed is not None and (newest is None or changed > newest):
                    newest = changed
        self.newest = newest

    def census(self, *, exact: bool, not_exact_because: str = "") -> GroupCensus:
        return GroupCensus(
            code=self.code,
            breakdown=UserBreakdown(**self.counts),
            member_fingerprint=FINGERPRINT_PREFIX + f"{self._digest_sum % _MODULUS:064x}",
            newest_modification=self.newest,
            exact=exact,
            not_exact_because="" if exact else not_exact_because,
        )


def _count(value: Count | int | float | str) -> float:
    """loans/requests/fees arrive as {"value": "3"}, a bare number or a string."""
    number = value.value if isinstance(value, Count) else value
    return as_float(number, default=0.0) or 0.0


# The six facts as bits of one int: an int is a kind the garbage collector never tracks, where
# a tuple per user was one more tracked allocation (a young collection every 700 users).
Kind = int
INACTIVE, EXPIRED, EXTERNAL, WITH_LOANS, WITH_REQUESTS, WITH_FEES = (1 << n for n in range(6))


def user_kind(user: CensusUser, today: date) -> Kind:
    """The six facts about one user that every count derives from, as bits.

    Written out inline (no `code_of`, remembered dates): this runs once per user of a census.
    List pages never expand loans, requests or fees (null).
    """
    status, account = user.status, user.account_type
    if isinstance(status, Code):
        status = status.value
    if isinstance(account, Code):
        account = account.value
    text = user.expiry_date
    expiry = None if text is None else _date_of_text(text)
    loans, requests, fees = user.loans, user.requests, user.fees
    kind = 0
    if status is not None and status.strip() == "INACTIVE":
        kind = INACTIVE
    if expiry is not None and expiry < today:
        kind |= EXPIRED
    if account is not None and account.strip() == "EXTERNAL":
        kind |= EXTERNAL
    if loans is not None and _count(loans) > 0:
        kind |= WITH_LOANS
    if requests is not None and _count(requests) > 0:
        kind |= WITH_REQUESTS
    if fees is not None and _count(fees) > 0:
        kind |= WITH_FEES
    return kind


@lru_cache(maxsize=8192)
def _date_of_text(text: str) -> date | None:
    """`as_date` of a text, remembered: a census meets the same few thousand expiry and status
    dates a hundred thousand times, and parsing each was a tenth of its CPU."""
    return as_date(text)


def user_flags(user: CensusUser, today: date) -> dict[str, bool]:
    """What one user counts towards, by UserBreakdown field name."""
    return flags_of(user_kind(user, today))


def flags_of(kind: Kind) -> dict[str, bool]:
    """What a user of this kind counts towards, by UserBreakdown field name."""
    inactive, expired, external = bool(kind & INACTIVE), bool(kind & EXPIRED), bool(kind & EXTERNAL)
    loans, requests = bool(kind & WITH_LOANS), bool(kind & WITH_REQUESTS)
    fees = bool(kind & WITH_FEES)
    candidate = inactive or expired
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
