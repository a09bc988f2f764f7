"""The apply journal: one append-only JSON-lines file per run, durable line by line.

Design decisions:
- Every operation is written twice: its *intent* before the call that changes Alma and its
  *outcome* after (done, skipped with why, failed with Alma's code and trackingId). A run killed
  between the two leaves an intent without an outcome: resume re-reads that record in Alma
  instead of guessing, so nothing is applied twice and nothing is lost.
- Each line is flushed and fsynced before the next write to Alma, so what the journal says
  happened is at least everything that did happen, even after kill -9 or a power cut.
- Primary IDs live here (and in the opt-in CSV) only: the journal is a local file under
  `.alma-groups/journal/` (git-ignored) or a private CI artifact, never printed.
- A torn last line (the process died mid-write) is ignored on reading; any other bad line
  makes the journal unreadable, because resuming or rolling back from a guess is worse.
- A finished run ends with an `end` note; a journal without one is a run that died (or one
  running now, which only the institution's lock can tell). Journals are found by what their
  header says (institution, kind), never by their file names, which anyone can rename.
- `guard_writes` installs a check that runs before every intent, i.e. before every write to
  Alma: the apply lock renews itself there and stops a run that lost it (reconciler.apply.lock).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

from reconciler.errors import JournalError

JOURNAL_DIR = Path(".alma-groups") / "journal"
JOURNAL_FORMAT = 1


@dataclass(frozen=True)
class JournalHeader:
    """Who wrote the journal and for which plan."""

    run_id: str
    institution: str
    plan_checksum: str
    commit: str | None
    tool_version: str
    kind: str = "apply"  # or "rollback"
    plan_file: str | None = None  # where the plan this run applies was saved
    of_journal: str | None = None  # rollback: the journal it reverses


@dataclass(frozen=True)
class Entry:
    """One journal line after the header: an intent or an outcome of operation `op_id`."""

    event: str  # "intent", "outcome" or "note"
    op_id: str
    op: str  # move, purge, move_instead, table, resume, stop, ...
    data: Mapping[str, Any] = field(default_factory=dict)


class Journal:
    """Appends entries to one file; thread-safe; each line durable before `write` returns."""

    def __init__(self, path: Path, header: JournalHeader, *, crash_after: int | None = None):
        self.path = path
        self.header = header
        self._lock = threading.Lock()
        self._writes = 0
        self._guard: Callable[[], None] | None = None
        # test seam: raise after this many durable writes, as a kill -9 would stop the run
        self._crash_after = crash_after

    @classmethod
    def create(
        cls, directory: Path, header: JournalHeader, *, crash_after: int | None = None
    ) -> Self:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{header.institution}-{header.run_id}.jsonl"
        if path.exists():
            raise JournalError(f"{path}: a journal with this run id already exists")
        journal = cls(path, header, crash_after=crash_after)
        journal._append({"format": JOURNAL_FORMAT, "header": header.__dict__, "at": _now()})
        return journal

    @classmethod
    def reopen(cls, path: Path, *, crash_after: int | None = None) -> Self:
        """Continue an existing journal (resume): later lines are appended to it."""
        header, _ = read_journal(path)
        journal = cls(path, header, crash_after=crash_after)
        journal._truncate_torn_tail()
        return journal

    def guard_writes(self, check: Callable[[], None] | None) -> None:
        """Run `check` before each intent (so before each write to Alma); it may raise."""
        self._guard = check

    def intent(self, op_id: str, op: str, **data: Any) -> None:
        if self._guard is not None:
            self._guard()
        self._append({"event": "intent", "op_id": op_id, "op": op, **data, "at": _now()})

    def outcome(self, op_id: str, op: str, status: str, **data: Any) -> None:
        self._append(
            {"event": "outcome", "op_id": op_id, "op": op, "status": status, **data, "at": _now()}
        )

    def note(self, op: str, **data: Any) -> None:
        self._append({"event": "note", "op_id": "", "op": op, **data, "at": _now()})

    def _append(self, document: Mapping[str, Any]) -> None:
        line = json.dumps(document, sort_keys=True, separators=(",", ":")) + "\n"
        with self._lock:
            if self._crash_after is not None and self._writes >= self._crash_after:
                raise SimulatedCrash(f"simulated crash before journal write {self._writes + 1}")
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(line)
                handle.flush()
                os.fsync(handle.fileno())
            self._writes += 1

    def _truncate_torn_tail(self) -> None:
        data = self.path.read_bytes()
        if data and not data.endswith(b"\n"):
            with self.path.open("r+b") as handle:
                handle.truncate(data.rfind(b"\n") + 1)


class SimulatedCrash(BaseException):
    """Raised by a journal built with `crash_after`: stops a run dead, like kill -9 (tests)."""


def read_header(path: Path) -> JournalHeader:
    """Only the header of a journal (its first line), to find journals without reading them."""
    try:
        with path.open(encoding="utf-8") as handle:
            first = handle.readline()
        document = json.loads(first)
        if not isinstance(document, dict) or document.get("format") != JOURNAL_FORMAT:
            raise JournalError(f"{path}: not an alma-groups journal of format {JOURNAL_FORMAT}")
        return JournalHeader(**document["header"])
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as error:
        raise JournalError(f"{path}: not a readable journal header ({error})") from error


def ended(entries: list[Entry]) -> bool:
    """Whether the run wrote its `end` note (finished, stopped cleanly, or superseded)."""
    return any(e.event == "note" and e.op == "end" for e in entries)


def settled(entries: list[Entry]) -> bool:
    """Whether the run ended and every operation it began has an outcome.

    A run stopped by Alma's daily limit writes its end note while calls of other worker
    threads were in flight; their intents have no outcome, so that run still needs settling.
    """
    return ended(entries) and all(op.outcome is not None for op in operations(entries))


def unfinished_journals(directory: Path, institution: str) -> list[Path]:
    """Apply journals of `institution` not yet settled (no end note, or an operation without
    an outcome), oldest run first.

    Read by header, whatever the files are called; unreadable files are not journals of ours.
    """
    if not directory.is_dir():
        return []
    found: list[tuple[str, Path]] = []
    for path in directory.glob("*.jsonl"):
        try:
            header = read_header(path)
            if header.kind != "apply" or header.institution != institution:
                continue
            _, entries = read_journal(path)
        except JournalError:
            continue
        if not settled(entries):
            found.append((header.run_id, path))
    return [path for _, path in sorted(found)]


def read_journal(path: Path) -> tuple[JournalHeader, list[Entry]]:
    """The header and entries of a journal; a torn last line is dropped."""
    try:
        lines = path.read_text(encoding="utf-8").split("\n")
    except (OSError, UnicodeDecodeError) as error:
        raise JournalError(f"{path}: cannot read the journal ({error})") from error
    if lines and lines[-1] == "":
        lines.pop()
    elif lines:
        lines.pop()  # torn: the run died while writing it; it was never durable
    documents = []
    for number, line in enumerate(lines, 1):
        try:
            documents.append(json.loads(line))
        except json.JSONDecodeError as error:
            raise JournalError(f"{path}:{number}: not a journal line ({error.msg})") from error
    if not documents or "header" not in documents[0]:
        raise JournalError(f"{path}: not an alma-groups journal (no header)")
    if documents[0].get("format") != JOURNAL_FORMAT:
        raise JournalError(f"{path}: journal format {documents[0].get('format')!r} is not read")
    try:
        header = JournalHeader(**documents[0]["header"])
    except TypeError as error:
        raise JournalError(f"{path}: malformed journal header ({error})") from error
    entries = [
        Entry(
            d.get("event", ""),
            d.get("op_id", ""),
            d.get("op", ""),
            {k: v for k, v in d.items() if k not in ("event", "op_id", "op")},
        )
        for d in documents[1:]
    ]
    return header, entries


@dataclass(frozen=True)
class Operation:
    """An operation's intent with its outcome (None when the run stopped in between)."""

    op_id: str
    op: str
    intent: Mapping[str, Any]
    outcome: Mapping[str, Any] | None


def operations(entries: list[Entry]) -> Iterator[Operation]:
    """Intents paired with their latest outcome, in the order they were started."""
    intents: dict[str, Entry] = {}
    outcomes: dict[str, Entry] = {}
    for entry in entries:
        if entry.event == "intent":
            intents.setdefault(entry.op_id, entry)
        elif entry.event == "outcome":
            outcomes[entry.op_id] = entry
    for op_id, intent in intents.items():
        done = outcomes.get(op_id)
        yield Operation(op_id, intent.op, intent.data, done.data if done else None)


def new_run_id(moment: datetime | None = None) -> str:
    """Sortable and unique enough across machines: UTC time plus random hex."""
    moment = moment or datetime.now(UTC)
    return moment.strftime("%Y%m%dT%H%M%SZ") + "-" + os.urandom(3).hex()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")
