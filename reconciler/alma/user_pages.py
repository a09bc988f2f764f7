"""Census pages: `GET /users?expand=full` decoded straight into the fields a census reads.

Design decision: a full user record is about 2 KB of JSON in some forty nested fields, and a
census reads nine of them (`CensusUser`). Decoding a page into dicts builds every one of those
objects; on the survey that was most of the client's CPU. msgspec decodes into a declared shape
and skips the undeclared fields without building them. Measured on recorded sandbox pages
(2 shared cores, load 8-9, process CPU): 63 µs per user with `json`, 42 with orjson, 4-6 with
this decoder. That is why the dependency is msgspec rather than orjson: orjson is a faster
`json`, but it still builds the whole record.

Design decision, frozen msgspec Structs that the garbage collector does not track
(`gc=False`), rather than TypedDicts: a page decoded into dicts made about 400 objects the
collector tracks, so a survey of the consortium at scale 0.1 (1,070 pages, hundreds of them in
flight at once) ran some 600 young collections, and the older ones each walked every user of
every page still in flight: 0.75-2.3 s of the client's 5-7 s of CPU went to collecting
(issue 11, gc callbacks timed in the survey). A page of Structs is one tracked object, the
list. The census reads them by attribute, which is also cheaper than `dict.get` (4.1 against
6.1 µs per user for hashing and tallying, recorded pages). A Struct holds strings, numbers and
other such Structs only, so it can never be part of a reference cycle, which is what makes
leaving it untracked safe.

Alma's quirks give the same answer on this path as on the general one. The typed decoder
accepts only the shapes it declares: `user` as a list or as one object, code fields as
`{"value": ...}` or a bare string, counts as an object, a number, a string or null, totals as a
number or a string; a leading BOM is skipped. Anything else (a code field as a list, a number
where an id belongs, NaN, a body that is not JSON) falls back to the general decoder
(`normalise.parse_json`) and `census_user`, which reads each field with the `normalise` helpers,
so an unexpected shape costs time, never correctness. A repeated key keeps its last value on
both paths, as in Python's `json`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import msgspec

from reconciler.alma.normalise import as_date, as_float, as_list, code_of
from reconciler.alma.paging import reported_total

_BOM = b"\xef\xbb\xbf"


class Code(msgspec.Struct, frozen=True, gc=False):
    """A code field sent as `{"value": "01", "desc": "..."}`: only the value is kept."""

    value: str | None = None


class Count(msgspec.Struct, frozen=True, gc=False):
    """`loans`, `requests` or `fees` sent as `{"value": "14"}`."""

    value: int | float | str | None = None


class CensusUser(msgspec.Struct, frozen=True, gc=False):
    """The part of a full user record that a census reads.

    From the typed decoder a code field is a `Code`, a bare string or None, and a count a
    `Count`, a number, a string or None, as Alma sent them; from `census_user` (the general
    path) code fields are plain strings and counts floats or None. `reading.tally` reads both.
    """

    primary_id: str = ""
    user_group: Code | str | None = None
    status: Code | str | None = None
    status_date: str | None = None
    expiry_date: str | None = None
    account_type: Code | str | None = None
    loans: Count | int | float | str | None = None
    requests: Count | int | float | str | None = None
    fees: Count | int | float | str | None = None

    def __repr__(self) -> str:
        # the primary id is personal data: a user that reaches a log line or a traceback's
        # locals by mistake shows its census fields, never who it is
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__struct_fields__[1:])
        return f"CensusUser(primary_id=<withheld>, {shown})"


CENSUS_FIELDS = frozenset(CensusUser.__struct_fields__)


class _CensusEnvelope(msgspec.Struct, gc=False):
    user: list[CensusUser] | CensusUser | None = None
    total_record_count: int | float | str | None = None
    # Alma's error envelope, bare or wrapped: only whether either key is there matters, and
    # `Raw` keeps whatever it holds without decoding it
    errorsExist: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET
    web_service_result: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET


_DECODER = msgspec.json.Decoder(_CensusEnvelope)


@dataclass(frozen=True)
class CensusPage:
    """One page of GET /users?expand=full, cut down to what a census reads, and the total
    Alma reported (None: unknown or -1)."""

    users: tuple[CensusUser, ...]
    total: int | None


def decode_census_page(body: bytes) -> CensusPage | None:
    """The page on the typed fast path, or None when the body is not in a shape it knows
    (then decode it generally and read it with `census_page_of`).

    None, too, for a body with `errorsExist` or `web_service_result` at its top level: the
    requester then checks it for Alma's error envelope (see `Requester.call`'s `typed`).
    """
    try:
        envelope = _DECODER.decode(body.removeprefix(_BOM))
    except msgspec.MsgspecError:  # DecodeError (not JSON, NaN) or ValidationError (shape)
        return None
    if (
        envelope.errorsExist is not msgspec.UNSET
        or envelope.web_service_result is not msgspec.UNSET
    ):
        return None
    users = envelope.user
    if users is None:
        found: tuple[CensusUser, ...] = ()
    elif isinstance(users, CensusUser):
        found = (users,)
    else:
        found = tuple(users)
    return CensusPage(found, reported_total(envelope.total_record_count))


def census_page_of(envelope: Mapping[str, Any]) -> CensusPage | None:
    """A generally decoded list envelope read as the typed decoder would; None when a list
    item is not an object (no census can read it)."""
    users = as_list(envelope.get("user"))
    if not all(isinstance(user, Mapping) for user in users):
        return None
    return CensusPage(
        tuple(census_user(user) for user in users),
        reported_total(envelope.get("total_record_count")),
    )


def census_user(record: Mapping[str, Any]) -> CensusUser:
    """The census fields of a generally decoded user, each read with the `normalise` helpers.

    Raises ValueError for a count that is not a number, or a date in neither a string nor
    `{"value": ...}` (the tally would not read either).
    """
    primary_id = record.get("primary_id")
    return CensusUser(
        primary_id="" if primary_id is None else str(primary_id),
        user_group=code_of(record.get("user_group")),
        status=code_of(record.get("status")),
        status_date=_date_text(record.get("status_date")),
        expiry_date=_date_text(record.get("expiry_date")),
        account_type=code_of(record.get("account_type")),
        loans=as_float(record.get("loans")),
        requests=as_float(record.get("requests")),
        fees=as_float(record.get("fees")),
    )


def _date_text(value: object) -> str | None:
    """A date as text: Alma's own text as the typed decoder keeps it (the tally reads both
    the same way), or the day of a date in another shape (`{"value": ...}`)."""
    if value is None or isinstance(value, str):
        return value
    found = as_date(value)
    return None if found is None else found.isoformat()
