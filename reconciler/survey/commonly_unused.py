"""FLVC's list of commonly unused groups, and how a group is matched against it.

FLVC names six groups that most of its institutions no longer use: 15 Autologin, Sublibrary,
Missing and Lost, 69 UBorrow partner, 99 Mango and Reserves. Institutions spell them their own
way ("Sub Library", "U-Borrow", "MISSINGLOST", separate "Missing" and "Lost" groups), so a
group matches an entry when:

- its code or its description contains one of the entry's words, as whole words in any case,
  with spaces, hyphens or underscores allowed inside them ("Auto-login", "SUB_LIB", "UBorrow");
- or its code is the entry's FLVC code (15, 69, 99) and its description is blank or just
  repeats the code. A described group with FLVC's code but none of the entry's words, such as
  "15 Faculty", is some local use of the number and does not match: codes are shared by
  convention only, and a librarian would not agree that Faculty is commonly unused.

Whole words keep "Preservation and repair" from matching "Reserves" and "Glostermann" from
matching "Lost". Pure: text in, verdict out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

SEPARATOR = r"[\s_\-]*"  # what may sit inside a word: "Auto login", "U-Borrow", "SUB_LIB"


def _word(*pieces: str) -> str:
    return SEPARATOR.join(pieces)


@dataclass(frozen=True)
class UnusedGroup:
    """One entry of FLVC's list: its name as FLVC writes it, its shared code, its words."""

    name: str
    code: str | None
    words: tuple[str, ...]  # regular expressions for one word each, matched as whole words

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        return re.compile(r"(?<![A-Z0-9])(?:" + "|".join(self.words) + r")(?![A-Z0-9])")

    def names(self, code: str, description: str) -> bool:
        """Whether the group `code` / `description` is this entry of the list."""
        pattern = self.pattern
        if pattern.search(code.upper()) or pattern.search(description.upper()):
            return True
        silent = description.strip() in ("", code)
        return self.code is not None and code == self.code and silent


COMMONLY_UNUSED = (
    UnusedGroup("15 Autologin", "15", (_word("AUTO", "LOG", "IN"),)),
    UnusedGroup("Sublibrary", None, (_word("SUB", "LIB") + "(?:RARY|RARIES)?",)),
    UnusedGroup("Missing and Lost", None, ("MISSING", "LOST", "MISSINGLOST")),
    UnusedGroup("69 UBorrow partner", "69", (_word("U", "BORROW"),)),
    UnusedGroup("99 Mango", "99", ("MANGO",)),
    UnusedGroup("Reserves", None, ("RESERVES?", _word("COURSE", "RESERVES?"))),
)
"""The groups FLVC names as commonly unused across its institutions, in FLVC's order."""


def unused_entry(code: str, description: str) -> UnusedGroup | None:
    """The entry of FLVC's list that names this group, if any (the first, in FLVC's order)."""
    return next((entry for entry in COMMONLY_UNUSED if entry.names(code, description)), None)
