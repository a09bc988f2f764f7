"""The patron-load history: what the SIS files an institution sent to Alma held, in aggregate.

Alma's SIS job counters carry no per-group breakdown, so the tool reads the load files itself
and keeps, per file, only its date, hash, size, record types and how many users each group had.
Nothing here can identify a person: no names, IDs, barcodes or emails, and no member names of
the zip. The safety rules ask this history whether a group that is being retired still arrives
in loads ("seen in a patron load within the look-back").

Pure values: reading files and the JSON on disk lives in `reconciler.patron_loads`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

NO_GROUP = ""
"""The key under which users with an empty or missing `<user_group>` are counted."""

NO_GROUP_LABEL = "(no group)"

MAX_CODE_LENGTH = 255
"""Longest user_group or record_type value kept; longer text is not a code but misplaced data."""

_CODE_SHAPE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,39}$")


def is_code_shaped(value: str) -> bool:
    """Whether `value` looks like an Alma code (letters, digits, `_ . -`; at most 40 long).

    A SIS file with shifted columns puts names ("Quuxington, Zelda") or emails where the group
    belongs; the history is committed to git, so only values shaped like codes are ever kept.
    A single word could still be a surname; the length and character rules catch the rest.
    """
    return bool(_CODE_SHAPE.match(value))


_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def group_label(code: str) -> str:
    """How a group key reads in a report: the code itself, or "(no group)" for the empty key."""
    return code if code != NO_GROUP else NO_GROUP_LABEL


class GroupSighting(NamedTuple):
    """One load file in which a group had users; unpacks as `(file_date, users, file_name)`."""

    file_date: date
    users: int
    file_name: str


@dataclass(frozen=True)
class PatronLoadFile:
    """The aggregate of one SIS file as Alma received it (a zip of XML, or plain XML).

    `file_date` is the date of the load; `reconciler.patron_loads.count_file` documents how it
    is chosen. `users_by_group` is sorted by code and holds only groups with at least one user;
    its counts add up to `users`. There is deliberately no "ingested at" time: storing it would
    make ingesting the same file twice change the history.
    """

    file_name: str
    sha256: str
    file_date: date
    size_bytes: int
    record_types: tuple[str, ...]
    users: int
    users_by_group: tuple[tuple[str, int], ...]
    # user_group and record_type values that were not shaped like codes, so not kept; the users
    # whose group was one of them are in `users` but under no group
    unrecognised_values: int = 0

    def __post_init__(self) -> None:
        # The history is committed to git and read by safety rules: refuse values that would
        # make it lie (counts that do not add up) or leak a folder path into the repository.
        if not self.file_name or "/" in self.file_name or "\\" in self.file_name:
            raise ValueError(f"file_name must be a base name without folders: {self.file_name!r}")
        if not _SHA256.match(self.sha256):
            raise ValueError("sha256 must be 64 lowercase hexadecimal digits")
        if self.size_bytes < 0 or self.users < 0:
            raise ValueError("size_bytes and users cannot be negative")
        if list(self.record_types) != sorted(set(self.record_types)):
            raise ValueError("record_types must be sorted and unique")
        codes = [code for code, _ in self.users_by_group]
        # never echo the value: text this long in a code field may be a misplaced personal field
        if any(len(code) > MAX_CODE_LENGTH for code in (*codes, *self.record_types)):
            raise ValueError(
                f"a user_group or record_type value is longer than {MAX_CODE_LENGTH} characters;"
                " codes are short, so the file's columns are probably shifted"
            )
        if codes != sorted(set(codes)):
            raise ValueError("users_by_group must be sorted by code, each code once")
        if any(count < 1 for _, count in self.users_by_group):
            raise ValueError("users_by_group lists only groups with at least one user")
        total = sum(count for _, count in self.users_by_group)
        if self.unrecognised_values < 0:
            raise ValueError("unrecognised_values cannot be negative")
        if not total <= self.users <= total + self.unrecognised_values:
            raise ValueError(
                f"users is {self.users} but users_by_group adds up to {total} "
                f"(with {self.unrecognised_values} unrecognised values)"
            )

    def count_for(self, code: str) -> int:
        """How many users of group `code` this file held (0 when none)."""
        return dict(self.users_by_group).get(code, 0)


def _file_order(item: PatronLoadFile) -> tuple[date, str, str]:
    # sha256 breaks the tie of two files with the same date and name (a corrected re-delivery)
    return (item.file_date, item.file_name, item.sha256)


@dataclass(frozen=True)
class PatronLoadHistory:
    """Every ingested load file of one institution, sorted by date then name; one per sha256."""

    institution: str
    files: tuple[PatronLoadFile, ...] = ()

    def __post_init__(self) -> None:
        # Normalised on construction so that equal histories are equal values and serialise
        # to identical bytes, whatever order the files were added in.
        ordered = tuple(sorted(self.files, key=_file_order))
        object.__setattr__(self, "files", ordered)
        hashes = [item.sha256 for item in ordered]
        if len(hashes) != len(set(hashes)):
            raise ValueError("each file (sha256) may appear only once")

    def newest_file_date(self) -> date | None:
        """The date of the most recent load file, or None when nothing has been ingested."""
        return self.files[-1].file_date if self.files else None

    def seen_since(self, code: str, since: date) -> list[GroupSighting]:
        """Every file dated `since` or later in which group `code` had users, oldest first."""
        return [
            GroupSighting(item.file_date, count, item.file_name)
            for item in self.files
            if item.file_date >= since and (count := item.count_for(code))
        ]

    def last_seen(self, code: str) -> GroupSighting | None:
        """The most recent file in which group `code` had users, or None if it never had."""
        for item in reversed(self.files):
            if count := item.count_for(code):
                return GroupSighting(item.file_date, count, item.file_name)
        return None

    def with_files(
        self, candidates: tuple[PatronLoadFile, ...]
    ) -> tuple[PatronLoadHistory, tuple[PatronLoadFile, ...], tuple[PatronLoadFile, ...]]:
        """Merge by sha256: `(new history, added, unchanged)`; a file already known is kept."""
        known = {item.sha256 for item in self.files}
        added: list[PatronLoadFile] = []
        unchanged: list[PatronLoadFile] = []
        for item in candidates:
            if item.sha256 in known:
                unchanged.append(item)
            else:
                known.add(item.sha256)
                added.append(item)
        merged = PatronLoadHistory(self.institution, (*self.files, *added))
        return merged, tuple(added), tuple(unchanged)
