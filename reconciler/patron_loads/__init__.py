"""Patron-load history: what the SIS files held, per group, without anything personal.

    SIS files ── count_file (streaming, safe XML) ──► PatronLoadFile
    PatronLoadFile… ── ingest (all or nothing, merge by sha256) ──► patron-load-history.json
    patron-load-history.json ── load_history ──► PatronLoadHistory ── is_stale ──► StaleVerdict

`reading` parses files, `store` owns the JSON on disk, `staleness` is a pure judgement.
"""

from reconciler.patron_loads.reading import count_file, date_in_name
from reconciler.patron_loads.staleness import Staleness, StaleVerdict, is_stale
from reconciler.patron_loads.store import (
    FORMAT_VERSION,
    SCHEMA_PATH,
    IngestResult,
    history_from_json,
    history_to_json,
    ingest,
    load_history,
    render_history,
    save_history,
)

__all__ = [
    "FORMAT_VERSION",
    "SCHEMA_PATH",
    "IngestResult",
    "StaleVerdict",
    "Staleness",
    "count_file",
    "date_in_name",
    "history_from_json",
    "history_to_json",
    "ingest",
    "is_stale",
    "load_history",
    "render_history",
    "save_history",
]
