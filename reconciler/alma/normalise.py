"""Alma's JSON quirks, smoothed once at the edge so nothing above `alma/` has to know them.

Design decision: these helpers are small, total functions over the value Alma sent (lists that
arrive as one object, "0" and "true" as strings, dates ending in `Z`, descriptions with stray
spaces). Callers convert a field when they read it, and raw records stay untouched so that a
user or code table can be PUT back exactly as it was read (Alma's PUTs are swap-all).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, date, datetime
from typing import Any

logger = logging.getLogger(__name__)

_TRUE = frozenset({"true", "yes", "1"})
_FALSE = frozenset({"false", "no", "0", ""})


def as_list(value: object) -> list[Any]:
    """A list whatever Alma sent: `None` → [], one object → [object], a list unchanged."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


def as_int(value: object, default: int | None = None) -> int | None:
    """An int from 14, "14", 14.0 or {"value": "14"}; `default` for None or ""."""
    value = _unwrap(value)
    if value is None or value == "":
        return default
    # bool is an int in Python, but a boolean where a count belongs is a wrong field.
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        return int(value.strip())
    raise ValueError(f"expected a whole number, got {value!r}")


def as_float(value: object, default: float | None = None) -> float | None:
    """A float from 2.5, "2.5" or {"value": "2.5"} (fees); `default` for None or ""."""
    value = _unwrap(value)
    if value is None or value == "":
        return default
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        return float(value.strip())
    raise ValueError(f"expected a number, got {value!r}")


def as_bool(value: object, default: bool = False) -> bool:
    """A bool from true, "true", "TRUE", "false", {"value": "false"}; `default` for None."""
    value = _unwrap(value)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise ValueError(f"expected a boolean, got {value!r}")


def as_date(value: object) -> date | None:
    """A date from "2025-06-30Z" or "2025-06-30" (Alma's date form); None for None or ""."""
    value = _unwrap(value)
    if value is None or value == "":
        return None
    if isinstance(value, str):
        # Alma writes a bare date with a time-zone suffix ("Z", sometimes "+02:00"); the
        # calendar day is what it means, so the suffix is dropped rather than converted.
        return date.fromisoformat(value.strip()[:10])
    raise ValueError(f"expected a date string, got {value!r}")


def as_timestamp(value: object) -> datetime | None:
    """An aware UTC datetime from "2025-10-05T09:11:32.592Z"; None for None or ""."""
    value = _unwrap(value)
    if value is None or value == "":
        return None
    if isinstance(value, str):
        moment = datetime.fromisoformat(value.strip())
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)  # Alma's timestamps are UTC even without "Z"
        return moment.astimezone(UTC)
    raise ValueError(f"expected a timestamp string, got {value!r}")


def clean_text(value: object) -> str:
    """A label with stray spaces removed (" Staff  User " → "Staff User"); "" for None."""
    if value is None:
        return ""
    return " ".join(str(value).split())


def code_of(field: object) -> str:
    """The code of a code-table field: {"value": "01", "desc": "..."} → "01"; "" when absent."""
    value = _unwrap(field)
    return "" if value is None else str(value).strip()


def desc_of(field: object) -> str:
    """The cleaned description of a code-table field; "" when absent."""
    if isinstance(field, dict):
        return clean_text(field.get("desc"))
    return ""


def _unwrap(value: object) -> object:
    # Many Alma numbers and codes come as {"value": ..., "desc": ...}; read through it.
    if isinstance(value, dict):
        return value.get("value")
    return value


def parse_json(body: bytes | str) -> Any:
    """Decode Alma JSON; a duplicated key keeps its last value (as browsers and Alma's UI do).

    Python's decoder already keeps the last value of a repeated key; no hook is installed to
    report them, because a hook makes every object Python-built and census pages of a hundred
    full user records are most of the client's CPU.
    """
    if isinstance(body, bytes):
        body = body.decode("utf-8-sig")  # some gateways prepend a BOM
    return json.loads(body)
