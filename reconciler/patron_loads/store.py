"""Read, merge and write `institutions/<slug>/patron-load-history.json`.

The file is committed to git, so writing it is deterministic (sorted keys, indent 2, a final
newline, files in a fixed order) and idempotent: ingesting a file whose sha256 is already
there changes nothing, not even the bytes. `ingest` reads every input before touching the
history, and the write itself is atomic (`reconciler.files.atomic_write`), so a
bad file or a crash never leaves a half-written history behind.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from reconciler.errors import PatronLoadFileError
from reconciler.files import atomic_write
from reconciler.model.history import PatronLoadFile, PatronLoadHistory
from reconciler.patron_loads.reading import count_file

FORMAT_VERSION = 1
SCHEMA_PATH = Path(__file__).resolve().parents[2] / "schemas" / "patron-load-history.schema.json"


@dataclass(frozen=True)
class IngestResult:
    """What an ingest did: files new to the history, and files it already had (same sha256)."""

    history: PatronLoadHistory
    added: tuple[PatronLoadFile, ...]
    unchanged: tuple[PatronLoadFile, ...]
    written: bool  # False when the history on disk already said exactly this


@cache
def _validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def history_to_json(history: PatronLoadHistory) -> dict[str, Any]:
    """The JSON document of a history (see schemas/patron-load-history.schema.json)."""
    return {
        "format_version": FORMAT_VERSION,
        "institution": history.institution,
        "files": [
            {
                "file_name": item.file_name,
                "sha256": item.sha256,
                "file_date": item.file_date.isoformat(),
                "size_bytes": item.size_bytes,
                "record_types": list(item.record_types),
                "users": item.users,
                "users_by_group": dict(item.users_by_group),
            }
            for item in history.files
        ],
    }


def render_history(history: PatronLoadHistory) -> str:
    """The exact text written to disk: the same history always gives the same bytes."""
    return json.dumps(history_to_json(history), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _key_path(parts: Sequence[str | int]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def _error_order(error: jsonschema.ValidationError) -> list[tuple[int, int, str]]:
    # paths mix list indexes and keys: order indexes numerically and never compare int to str
    return [(0, part, "") if isinstance(part, int) else (1, 0, str(part)) for part in error.path]


def history_from_json(document: object, source: str) -> PatronLoadHistory:
    """Check `document` against the schema and build the history; errors name file and key."""
    version = document.get("format_version") if isinstance(document, dict) else None
    if isinstance(version, int) and version != FORMAT_VERSION:
        raise PatronLoadFileError(
            f"{source}: format_version: this file has version {version}; this alma-groups reads "
            f"version {FORMAT_VERSION} (upgrade alma-groups if the file is newer)"
        )
    errors = sorted(_validator().iter_errors(document), key=_error_order)
    if errors:
        first = errors[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        # jsonschema quotes the offending value; for this file that is a count or a code, and
        # the schema admits no personal field, so the message stays free of patron data
        raise PatronLoadFileError(f"{source}: {_key_path(list(first.path))}: {first.message}{more}")
    if not isinstance(document, dict):  # unreachable after the schema; narrows the type
        raise PatronLoadFileError(f"{source}: (top level): not a JSON object")
    files: list[PatronLoadFile] = []
    for index, entry in enumerate(document["files"]):
        key = f"files[{index}]"
        try:
            files.append(
                PatronLoadFile(
                    file_name=entry["file_name"],
                    sha256=entry["sha256"],
                    file_date=date.fromisoformat(entry["file_date"]),
                    size_bytes=entry["size_bytes"],
                    record_types=tuple(entry["record_types"]),
                    users=entry["users"],
                    users_by_group=tuple(entry["users_by_group"].items()),
                )
            )
        except ValueError as exc:
            raise PatronLoadFileError(f"{source}: {key}: {exc}") from exc
    try:
        return PatronLoadHistory(document["institution"], tuple(files))
    except ValueError as exc:
        raise PatronLoadFileError(f"{source}: files: {exc}") from exc


def load_history(path: Path, *, institution: str | None = None) -> PatronLoadHistory | None:
    """The history stored at `path`, or None when there is none yet.

    With `institution`, a history that belongs to another institution is an error.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise PatronLoadFileError(f"{path}: cannot read the history: {exc}") from exc
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PatronLoadFileError(
            f"{path}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}"
        ) from exc
    history = history_from_json(document, str(path))
    if institution is not None and history.institution != institution:
        raise PatronLoadFileError(
            f"{path}: institution: the history belongs to {history.institution!r}, "
            f"not {institution!r}"
        )
    return history


def save_history(path: Path, history: PatronLoadHistory) -> bool:
    """Write `history` atomically; False (nothing written) when the file already says this."""
    text = render_history(history)
    try:
        if path.read_text(encoding="utf-8") == text:
            return False
    except (OSError, UnicodeDecodeError):
        pass  # missing or unreadable: replace it
    try:
        atomic_write(path, text)
    except OSError as exc:
        raise PatronLoadFileError(f"{path}: cannot write the history: {exc}") from exc
    return True


def ingest(
    history_path: Path,
    institution: str,
    files: Sequence[Path],
    *,
    file_date: date | None = None,
) -> IngestResult:
    """Count every file, then merge them into the history by sha256 and write it once.

    All files are read before the history is touched: any bad file raises
    `PatronLoadFileError` and nothing is written. `file_date` overrides the date of every file.
    """
    existing = load_history(history_path, institution=institution)
    counted = tuple(count_file(path, file_date=file_date) for path in files)
    base = existing or PatronLoadHistory(institution)
    merged, added, unchanged = base.with_files(counted)
    written = save_history(history_path, merged) if added or existing is None else False
    return IngestResult(merged, added, unchanged, written)
