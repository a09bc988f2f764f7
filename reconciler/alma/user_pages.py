"""Census pages: `GET /users?expand=full` decoded straight into the fields a census reads.

Design decision: a full user record is about 2 KB of JSON in some forty nested fields, and a
census reads nine of them (`payloads.CensusUser`). Decoding a page into dicts builds every one
of those objects; on the survey that was most of the client's CPU. msgspec decodes into a
declared shape and skips the undeclared fields without building them. Measured on recorded
sandbox pages (2 shared cores, load 8-9, process CPU): 63 µs per user with `json`, 42 with
orjson, 4-6 with this decoder. That is why the dependency is msgspec rather than orjson: orjson
is a faster `json`, but it still builds the whole record.

Alma's quirks give the same answer on this path as on the general one. The typed decoder
accepts only the shapes it declares: `user` as a list or as one object, code fields as
`{"value": ...}` or a bare string, counts as an object, a number, a string or null, totals as a
number or a string; a leading BOM is skipped. Anything else (a code field as a list, a number
where an id belongs, NaN, a body that is not JSON) falls back to the general decoder
(`normalise.parse_json`) and the same slimming, so an unexpected shape costs time, never
correctness. A repeated key keeps its last value on both paths, as in Python's `json`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypedDict

import msgspec

from reconciler.alma.normalise import as_list
from reconciler.alma.payloads import CensusUser

CENSUS_FIELDS = frozenset(CensusUser.__annotations__)
_BOM = b"\xef\xbb\xbf"


class _CensusEnvelope(TypedDict, total=False):
    user: list[CensusUser] | CensusUser | None
    total_record_count: int | float | str | None


_DECODER = msgspec.json.Decoder(_CensusEnvelope)


def decode_census_page(body: bytes) -> dict[str, Any] | None:
    """The list envelope holding census fields only, or None when the body is not in a shape
    the typed decoder knows (then slim the generally decoded page with `slim_envelope`)."""
    try:
        return _DECODER.decode(body.removeprefix(_BOM))  # type: ignore[return-value]
    except msgspec.MsgspecError:  # DecodeError (not JSON, NaN) or ValidationError (shape)
        return None


def slim_envelope(envelope: Mapping[str, Any]) -> dict[str, Any] | None:
    """A generally decoded list envelope cut down to the census fields, as the typed decoder
    would; None when a list item is not an object (no census can read it)."""
    users = as_list(envelope.get("user"))
    if not all(isinstance(user, Mapping) for user in users):
        return None
    return {
        "user": [{k: v for k, v in user.items() if k in CENSUS_FIELDS} for user in users],
        "total_record_count": envelope.get("total_record_count"),
    }
