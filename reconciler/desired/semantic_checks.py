"""Rules a JSON Schema cannot express: relations between entries, files and institutions.

Every check is a pure function over parsed documents that returns problems. Checks read the
documents defensively (a schema error elsewhere must not turn into a crash here), so one run
reports the schema problems and the semantic ones together.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reconciler.desired.schema_check import suggest, validator_for
from reconciler.desired.yaml_source import Document, Path_, format_path
from reconciler.model import Problem


@dataclass(frozen=True)
class CodeEntry:
    """One group entry as written, with where to point at it."""

    code: str
    path: Path_  # path of the `code` value, e.g. ("retired", 0, "code")
    line: int
    kept: bool


def _entries(document: Document) -> list[CodeEntry]:
    content = document.content if isinstance(document.content, dict) else {}
    entries: list[CodeEntry] = []
    for section, kept in (("groups", True), ("retired", False)):
        items = content.get(section)
        if not isinstance(items, list):
            continue
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                continue
            path: Path_ = (section, index, "code")
            code = item.get("code")
            source = document.source_map.scalars.get(path)
            if not isinstance(code, str) and code is not None and source is not None:
                # an unquoted 01 (read as 1) is reported by the schema check; here it counts as
                # the "01" that was meant, so protected groups and targets do not cascade
                code = source.text
            if isinstance(code, str):
                line = document.source_map.value_position(path)[0]
                entries.append(CodeEntry(code, path, line, kept))
    return entries


def _has_groups(document: Document) -> bool:
    """Whether `groups` is a list; if not, the schema error says so, and checks against the
    kept groups would only repeat it once per reference."""
    content = document.content if isinstance(document.content, dict) else {}
    return isinstance(content.get("groups"), list)


def _problem(document: Document, path: Path_, message: str) -> Problem:
    line, column = document.source_map.value_position(path)
    return Problem(document.file, line, column, format_path(path), message)


def check_user_groups(document: Document) -> list[Problem]:
    """Duplicate codes, kept-and-retired codes, case collisions, defaults and move targets."""
    entries = _entries(document)
    return [
        *_duplicate_codes(document, entries),
        *_case_collisions(document, entries),
        *_defaults(document),
        *_move_targets(document, entries),
    ]


def _duplicate_codes(document: Document, entries: Sequence[CodeEntry]) -> Iterator[Problem]:
    first: dict[str, CodeEntry] = {}
    for entry in entries:
        earlier = first.get(entry.code)
        if earlier is None:
            first[entry.code] = entry
        elif earlier.kept != entry.kept:
            yield _problem(
                document,
                entry.path,
                f"{entry.code!r} is both kept (line {earlier.line}) and retired; "
                "a group is either kept or retired",
            )
        else:
            yield _problem(
                document,
                entry.path,
                f"duplicate code {entry.code!r} (also on line {earlier.line}); keep one",
            )


def _case_collisions(document: Document, entries: Sequence[CodeEntry]) -> Iterator[Problem]:
    by_folded: dict[str, CodeEntry] = {}
    for entry in entries:
        earlier = by_folded.setdefault(entry.code.casefold(), entry)
        if earlier.code != entry.code:
            yield _problem(
                document,
                entry.path,
                f"{entry.code!r} differs from {earlier.code!r} (line {earlier.line}) only in "
                "case; Alma keeps them apart but people will not, so rename one",
            )


def _defaults(document: Document) -> Iterator[Problem]:
    content = document.content if isinstance(document.content, dict) else {}
    groups = content.get("groups")
    if not isinstance(groups, list):
        return
    first_default: tuple[str, int] | None = None
    for index, item in enumerate(groups):
        if not (isinstance(item, dict) and item.get("default") is True):
            continue
        path: Path_ = ("groups", index, "default")
        # quote the code as written: an unquoted 01 was read as the number 1
        source = document.source_map.scalars.get(("groups", index, "code"))
        code = source.text if source else str(item.get("code", "?"))
        if first_default is None:
            first_default = (code, document.source_map.value_position(path)[0])
            continue
        yield _problem(
            document,
            path,
            f"more than one default group: {first_default[0]!r} (line {first_default[1]}) "
            f"is already the default; Alma allows one",
        )


def _move_targets(document: Document, entries: Sequence[CodeEntry]) -> Iterator[Problem]:
    content = document.content if isinstance(document.content, dict) else {}
    retired = content.get("retired")
    if not isinstance(retired, list) or not _has_groups(document):
        return
    kept = sorted({entry.code for entry in entries if entry.kept})
    retired_codes = {entry.code for entry in entries if not entry.kept}
    for index, item in enumerate(retired):
        if not isinstance(item, dict):
            continue
        target = item.get("move_users_to")
        if not isinstance(target, str):
            continue
        path: Path_ = ("retired", index, "move_users_to")
        if target in kept:
            continue  # a code both kept and retired is reported once, as such, not here too
        if target == item.get("code"):
            yield _problem(
                document,
                path,
                f"{target!r} is this retired group itself; move users to a kept group",
            )
        elif target in retired_codes:
            yield _problem(
                document,
                path,
                f"{target!r} is being retired too; move users to a kept group",
            )
        elif target not in kept:
            yield _problem(document, path, f"{target!r} is not a kept group{suggest(target, kept)}")


def check_institution_against_groups(institution: Document, groups: Document) -> list[Problem]:
    """Protected groups must be kept: never retired, never missing from user-groups.yaml."""
    content = institution.content if isinstance(institution.content, dict) else {}
    safety = content.get("safety")
    protected = safety.get("protected_groups") if isinstance(safety, dict) else None
    if not isinstance(protected, list):
        return []
    entries = _entries(groups)
    kept = {entry.code for entry in entries if entry.kept}
    retired = {entry.code: entry for entry in entries if not entry.kept}
    problems: list[Problem] = []
    for index, code in enumerate(protected):
        if not isinstance(code, str):
            continue
        if code in retired:
            problems.append(
                _problem(
                    groups,
                    retired[code].path,
                    f"{code!r} is a protected group (institution.yaml safety.protected_groups); "
                    "remove it from protected_groups first if it really must go",
                )
            )
        elif code not in kept and _has_groups(groups):
            problems.append(
                _problem(
                    institution,
                    ("safety", "protected_groups", index),
                    f"{code!r} is not a kept group in user-groups.yaml"
                    f"{suggest(code, sorted(kept))}",
                )
            )
    return problems


def check_slug_matches_folder(institution: Document, folder_name: str) -> list[Problem]:
    """The slug names the folder, so CODEOWNERS and `--institution` agree on one name."""
    content = institution.content if isinstance(institution.content, dict) else {}
    slug = content.get("slug")
    # an invalid slug is reported by the schema check; renaming the folder to it would not help
    if isinstance(slug, str) and slug != folder_name and re.search(_slug_pattern(), slug):
        return [
            _problem(
                institution,
                ("slug",),
                f"{slug!r} does not match its folder {folder_name!r}; rename one of them",
            )
        ]
    return []


def _slug_pattern() -> str:
    schema: Any = validator_for("institution.schema.json").schema
    return str(schema["properties"]["slug"]["pattern"])


def check_unique_across_institutions(
    institutions: Mapping[str, Document], selected: frozenset[str]
) -> list[Problem]:
    """Two institutions may not share an Alma code or an API-key variable."""
    problems: list[Problem] = []
    for key in ("alma_code", "api_key_env"):
        owners: dict[Any, list[str]] = {}
        for name, document in sorted(institutions.items()):
            content = document.content if isinstance(document.content, dict) else {}
            value = content.get(key)
            if isinstance(value, str):
                owners.setdefault(value, []).append(name)
        for value, names in owners.items():
            if len(names) < 2:
                continue
            for name in names:
                if name not in selected:
                    continue
                others = ", ".join(institutions[other].file for other in names if other != name)
                problems.append(
                    _problem(
                        institutions[name],
                        (key,),
                        f"{value!r} is also used by {others}; each institution needs its own",
                    )
                )
    return problems
