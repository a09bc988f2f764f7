"""Find institution folders, read and check every document, and build the desired state.

Validation never stops at the first problem: every file is read, every schema and semantic
check runs, and all problems come back together, sorted by file and line, so one edit-validate
round fixes everything. Only a fully valid tree becomes a `DesiredState`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from reconciler.desired import semantic_checks
from reconciler.desired.building import build_institution, build_state
from reconciler.desired.job_template import (
    JOB_TEMPLATE_FILE,
    JOB_TEMPLATE_SCHEMA,
    check_job_template,
    read_job_template,
)
from reconciler.desired.schema_check import check_schema, suggest
from reconciler.desired.yaml_source import Document, read_document
from reconciler.errors import ConfigError, PatronLoadFileError, UsageError
from reconciler.model import DesiredState, Institution, InstitutionState, Problem
from reconciler.patron_loads.store import load_history

INSTITUTION_FILE = "institution.yaml"
GROUPS_FILE = "user-groups.yaml"
HISTORY_FILE = "patron-load-history.json"
KNOWN_FILES = (INSTITUTION_FILE, GROUPS_FILE, HISTORY_FILE, JOB_TEMPLATE_FILE)


@dataclass(frozen=True)
class ValidationReport:
    """What `validate` found: every problem, and what was checked."""

    problems: tuple[Problem, ...]
    institutions_checked: tuple[str, ...]
    files_checked: int
    state: DesiredState | None  # built only when there are no problems

    @property
    def ok(self) -> bool:
        return not self.problems


def display_path(path: Path, cwd: Path | None = None) -> str:
    """Relative to the working directory when inside it (what people type), else absolute."""
    base = (cwd or Path.cwd()).resolve()
    resolved = path.resolve()
    try:
        return resolved.relative_to(base).as_posix()
    except ValueError:
        return resolved.as_posix()


def discover_institution_dirs(root: Path) -> list[Path]:
    """Every institution folder under `root` (sorted; hidden folders skipped)."""
    if not root.is_dir():
        raise UsageError(f"{root}: no such folder of institutions")
    return sorted(
        child for child in root.iterdir() if child.is_dir() and not child.name.startswith(".")
    )


def resolve_institution_dirs(paths: Iterable[Path]) -> list[Path]:
    """Map PATH arguments (the root, institution folders or their files) to folders."""
    found: dict[Path, None] = {}
    for path in paths:
        if not path.exists():
            raise UsageError(f"{path}: no such file or folder")
        if path.is_file():
            found[path.resolve().parent] = None
        elif _looks_like_institution(path):
            found[path.resolve()] = None
        else:
            for folder in discover_institution_dirs(path):
                found[folder.resolve()] = None
    return list(found)


def _looks_like_institution(folder: Path) -> bool:
    return (folder / INSTITUTION_FILE).exists() or (folder / GROUPS_FILE).exists()


def validate_paths(paths: Sequence[Path], *, cwd: Path | None = None) -> ValidationReport:
    """Check the institutions named by `paths`; never raises on bad content, only reports."""
    folders = resolve_institution_dirs(paths)
    problems: list[Problem] = []
    states: list[InstitutionState] = []
    institution_docs: dict[str, Document] = {}
    files = 0
    for folder in folders:
        shown = display_path(folder, cwd)
        problems.extend(_stray_files(folder, shown))
        documents: dict[str, Document] = {}
        for name, schema in (
            (INSTITUTION_FILE, "institution.schema.json"),
            (GROUPS_FILE, "user-groups.schema.json"),
        ):
            path = folder / name
            if not path.exists():
                problems.append(
                    Problem(
                        shown,
                        0,
                        0,
                        "",
                        f"missing {name}: every institution folder needs "
                        f"{INSTITUTION_FILE} and {GROUPS_FILE}",
                    )
                )
                continue
            files += 1
            parsed = read_document(path, display_path(path, cwd))
            if isinstance(parsed, list):
                problems.extend(parsed)
                continue
            problems.extend(parsed.problems)
            problems.extend(check_schema(parsed, schema))
            documents[name] = parsed
        problems.extend(_history_problems(folder, cwd))
        files += (folder / JOB_TEMPLATE_FILE).exists()
        job_template = _job_template(folder, cwd, problems)
        institution, groups = documents.get(INSTITUTION_FILE), documents.get(GROUPS_FILE)
        if institution is not None:
            institution_docs[folder.name] = institution
            problems.extend(semantic_checks.check_slug_matches_folder(institution, folder.name))
        if groups is not None:
            problems.extend(semantic_checks.check_user_groups(groups))
        if institution is not None and groups is not None:
            problems.extend(semantic_checks.check_institution_against_groups(institution, groups))
            if not problems:
                states.append(build_state(institution, groups, job_template))
    selected = frozenset(institution_docs)
    siblings = _sibling_institutions(folders, institution_docs, cwd)
    problems.extend(semantic_checks.check_unique_across_institutions(siblings, selected))
    unique = tuple(sorted(set(problems)))
    state = None if unique else DesiredState(tuple(states))
    return ValidationReport(unique, tuple(folder.name for folder in folders), files, state)


def _job_template(folder: Path, cwd: Path | None, problems: list[Problem]) -> Document | None:
    """The optional job template, checked; its problems are added to `problems`.

    None when there is no file or it could not be parsed at all (its problems say why).
    """
    path = folder / JOB_TEMPLATE_FILE
    if not path.exists():
        return None
    parsed = read_job_template(path, display_path(path, cwd))
    if isinstance(parsed, list):
        problems.extend(parsed)
        return None
    problems.extend(parsed.problems)
    problems.extend(check_schema(parsed, JOB_TEMPLATE_SCHEMA))
    problems.extend(check_job_template(parsed))
    return parsed


def _history_problems(folder: Path, cwd: Path | None) -> list[Problem]:
    """The patron-load history is generated, but it is committed: check it like the YAML."""
    path = folder / HISTORY_FILE
    if not path.exists():
        return []
    shown = display_path(path, cwd)
    try:
        load_history(path, institution=folder.name)
    except PatronLoadFileError as error:
        message = str(error).removeprefix(str(path)).lstrip(":")
        line, column = 0, 0
        head, _, rest = message.partition(": ")
        if head.replace(":", "").isdigit() and ":" in head:  # "3:5: not valid JSON: ..."
            line, column = (int(part) for part in head.split(":"))
            message = rest
        return [Problem(shown, line, column, "", message.strip())]
    return []


def _stray_files(folder: Path, shown: str) -> list[Problem]:
    """A misspelt file name would otherwise be ignored without a word."""
    problems = []
    for child in sorted(folder.iterdir()):
        if child.suffix in (".yaml", ".yml", ".json") and child.name not in KNOWN_FILES:
            hint = suggest(child.name, KNOWN_FILES) or f"; expected {', '.join(KNOWN_FILES)}"
            problems.append(Problem(shown, 0, 0, "", f"unexpected file {child.name!r}{hint}"))
    return problems


def _sibling_institutions(
    folders: Sequence[Path], loaded: dict[str, Document], cwd: Path | None
) -> dict[str, Document]:
    """All institution.yaml files beside the selected ones, for the cross-institution checks.

    Validating one institution (a pre-commit hook on one changed file) must still catch an
    alma_code copied from an institution that was not changed.
    """
    siblings = dict(loaded)
    for root in {folder.parent for folder in folders}:
        for other in discover_institution_dirs(root):
            path = other / INSTITUTION_FILE
            if other.name in siblings or not path.exists():
                continue
            parsed = read_document(path, display_path(path, cwd))
            if isinstance(parsed, Document):
                siblings[other.name] = parsed
    return siblings


def load_desired_state(root: Path, slugs: Iterable[str] | None = None) -> DesiredState:
    """The validated desired state of `root` (optionally only `slugs`); ConfigError if invalid."""
    folders = discover_institution_dirs(root)
    if slugs is not None:
        wanted = list(dict.fromkeys(slugs))
        names = {folder.name for folder in folders}
        for slug in wanted:
            if slug not in names:
                raise UsageError(f"unknown institution {slug!r}{suggest(slug, sorted(names))}")
        folders = [root / slug for slug in wanted]
    report = validate_paths(folders or [root])
    if report.state is None:
        raise ConfigError(report.problems)
    return report.state


def load_institution(root: Path, slug: str) -> Institution:
    """Only institution.yaml of `slug`, checked: enough to reach its Alma (e.g. to import
    user-groups.yaml, which may not exist yet)."""
    folder = root / slug
    path = folder / INSTITUTION_FILE
    if not path.exists():
        names = [f.name for f in discover_institution_dirs(root)]
        raise UsageError(f"unknown institution {slug!r}{suggest(slug, names)}")
    parsed = read_document(path, display_path(path))
    if isinstance(parsed, list):
        raise ConfigError(tuple(parsed))
    problems = [
        *parsed.problems,
        *check_schema(parsed, "institution.schema.json"),
        *semantic_checks.check_slug_matches_folder(parsed, slug),
    ]
    if problems:
        raise ConfigError(tuple(problems))
    return build_institution(parsed)
