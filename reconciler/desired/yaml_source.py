"""Read one YAML document safely and remember where every key and value was written.

PyYAML's own constructors forget positions and silently keep the last of two duplicate keys,
so we compose the node graph ourselves (safe tags only) and build plain Python values from it,
recording `path -> (line, column)` on the way. Building it ourselves is also where the limits
live: a size cap before parsing, and a node budget that stops alias bombs ("billion laughs")
from expanding a few hundred bytes into gigabytes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from reconciler.files import UnsafeFileError, read_bounded
from reconciler.model import Problem

MAX_DOCUMENT_BYTES = 256 * 1024  # an institution's groups fit in a few KB; 256 KB is generous
MAX_NODES = 20_000  # after alias expansion; a real user-groups.yaml has a few hundred
MAX_DEPTH = 64

Path_ = tuple[str | int, ...]

try:  # libyaml is ten times faster; the pure-Python loader gives the same nodes
    _Loader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment,unused-ignore]
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Loader = yaml.SafeLoader

_MERGE_TAG = "tag:yaml.org,2002:merge"
_COLLECTION_TAGS = frozenset({"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"})


def format_path(path: Path_) -> str:
    """`("retired", 0, "move_users_to")` -> `retired[0].move_users_to`."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


@dataclass(frozen=True)
class ScalarSource:
    """How a scalar was written, so messages can quote the user's own text back."""

    text: str
    quoted: bool


@dataclass
class SourceMap:
    """Positions (1-based line and column) of values and keys, by path into the document."""

    values: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    scalars: dict[Path_, ScalarSource] = field(default_factory=dict)

    def value_position(self, path: Path_) -> tuple[int, int]:
        """Where the value at `path` starts, or the nearest enclosing value we know of."""
        for end in range(len(path), -1, -1):
            found = self.values.get(path[:end])
            if found:
                return found
        return (1, 1)

    def key_position(self, path: Path_) -> tuple[int, int]:
        """Where the key naming `path` is written (falls back to the value's position)."""
        return self.keys.get(path) or self.value_position(path)


@dataclass(frozen=True)
class Document:
    """A parsed YAML document: plain values plus where each came from."""

    file: str
    content: Any
    source_map: SourceMap
    # problems that did not stop the reading (a duplicate key, a tag): reported, then the
    # document is still checked so that one run shows everything
    problems: tuple[Problem, ...] = ()


class _TooLarge(Exception):
    """The document expands past MAX_NODES or MAX_DEPTH (an alias bomb or a self-reference)."""

    def __init__(self, message: str, node: yaml.Node) -> None:
        super().__init__(message)
        self.node = node


def read_document(
    path: Path, display: str, *, within: Path | None = None
) -> Document | list[Problem]:
    """Parse `path`; return a Document, or every problem that stopped us reading it.

    With `within`, a symbolic link that leads outside that folder is refused unread; special
    files and files over MAX_DOCUMENT_BYTES always are (see `reconciler.files`).
    """
    try:
        raw = read_bounded(path, limit=MAX_DOCUMENT_BYTES, within=within)
    except FileNotFoundError as error:
        return [Problem(display, 0, 0, "", f"cannot read file: {error.strerror}")]
    except UnsafeFileError as error:
        line = 1 if error.reason.startswith("file is") else 0
        return [Problem(display, line, line, "", error.reason)]
    return parse_document(raw, display)


def _decode(raw: bytes, display: str) -> str | list[Problem]:
    """The document as text, or why it is not UTF-8 text of a sane size."""

    def problem(message: str, line: int = 1, column: int = 1) -> list[Problem]:
        return [Problem(display, line, column, "", message)]

    if len(raw) > MAX_DOCUMENT_BYTES:
        return problem(f"file is {len(raw):,} bytes; the limit is {MAX_DOCUMENT_BYTES:,}")
    if b"\x00" in raw:
        line, column = _line_column(raw, raw.index(b"\x00"))
        return problem("file is binary (contains a NUL byte), not YAML text", line, column)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line, column = _line_column(raw, error.start)
        return problem(
            f"file is not UTF-8 text (byte 0x{raw[error.start]:02x}); save it as UTF-8",
            line,
            column,
        )


def parse_document(raw: bytes, display: str) -> Document | list[Problem]:
    """Parse bytes already read; split out so tests and the fuzzer need no files."""

    def problem(message: str, line: int = 1, column: int = 1) -> list[Problem]:
        return [Problem(display, line, column, "", message)]

    text = _decode(raw, display)
    if isinstance(text, list):
        return text
    text = text.removeprefix("\ufeff")  # editors on Windows add a BOM; YAML allows it
    try:
        nodes = list(yaml.compose_all(text, Loader=_Loader))
    except yaml.MarkedYAMLError as error:
        line, column, message = _syntax_problem(error, text)
        return problem(message, line, column)
    except yaml.reader.ReaderError as error:
        line, column = _line_column(text.encode("utf-8"), len(text[: error.position].encode()))
        char = error.character  # PyYAML and libyaml both give the code point as an int
        shown = f"U+{char:04X}" if isinstance(char, int) else repr(char)
        return problem(
            f"file contains an invisible control character ({shown}), which YAML does not "
            "allow; remove it",
            line,
            column,
        )
    except yaml.YAMLError as error:
        return problem(f"invalid YAML: {' '.join(str(error).split())}")
    if len(nodes) > 1:
        second = nodes[1].start_mark
        return problem(
            "more than one YAML document ('---'); keep one per file",
            second.line + 1,
            second.column + 1,
        )
    if not nodes or nodes[0] is None or _is_blank(nodes[0]):
        return problem("file is empty; expected a YAML mapping")
    builder = _Builder(display)
    try:
        content = builder.build(nodes[0], ())
    except _TooLarge as error:
        mark = error.node.start_mark
        return problem(str(error), mark.line + 1, mark.column + 1)
    return Document(display, content, builder.source_map, tuple(builder.problems))


def _syntax_problem(error: yaml.MarkedYAMLError, text: str) -> tuple[int, int, str]:
    """Line, column and message for a YAML syntax error."""
    if "quoted scalar" in (error.context or "") and error.context_mark:
        # the scanner notices an unclosed quote only where the text ends, often lines below:
        # point at the quote that was opened, which is where the fix goes
        opened = error.context_mark
        return (
            opened.line + 1,
            opened.column + 1,
            "invalid YAML: this quote is never closed; add the closing quote",
        )
    mark = error.problem_mark or error.context_mark
    reason = " ".join((error.problem or error.context or "invalid YAML").split())
    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    return line, column, _syntax_message(error, reason, text, line, column)


def _syntax_message(
    error: yaml.MarkedYAMLError, reason: str, text: str, line: int, column: int
) -> str:
    """PyYAML's reason, plus what to look for: people mostly break indentation and quotes."""
    lines = text.split("\n")
    if 0 < line <= len(lines) and lines[line - 1][column - 1 : column] == "\t":
        return "invalid YAML: a tab character; YAML indents with spaces only"
    if reason == "second occurrence" and error.context and error.context_mark:
        # libyaml: "found duplicate anchor; first occurrence" ... "second occurrence"
        first = error.context_mark.line + 1
        return f"invalid YAML: duplicate anchor (first defined on line {first}); rename one"
    if reason.startswith("found undefined alias"):
        return (
            "invalid YAML: an alias (*name) refers to no anchor (&name) above it; "
            "write the value out"
        )
    if isinstance(error, yaml.scanner.ScannerError | yaml.parser.ParserError):
        return f"invalid YAML: {reason}; check the indentation and quotes here and just above"
    return f"invalid YAML: {reason}"


def _tag_text(tag: str) -> str:
    """`tag:yaml.org,2002:python/name` -> `!!python/name`, as it is written in the file."""
    prefix = "tag:yaml.org,2002:"
    return "!!" + tag.removeprefix(prefix) if tag.startswith(prefix) else tag


def _is_blank(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null") and not node.value


def _line_column(raw: bytes, offset: int) -> tuple[int, int]:
    before = raw[:offset]
    line = before.count(b"\n") + 1
    column = offset - (before.rfind(b"\n") + 1) + 1
    return line, column


class _Builder:
    """Turns a composed node graph into plain values, recording positions and problems."""

    def __init__(self, display: str) -> None:
        self.display = display
        self.source_map = SourceMap()
        self.problems: list[Problem] = []
        self._constructor = yaml.constructor.SafeConstructor()
        self._budget = MAX_NODES
        self._open: set[int] = set()

    def build(self, node: yaml.Node, path: Path_) -> Any:
        self._budget -= 1
        if self._budget < 0:
            raise _TooLarge(
                f"document expands to more than {MAX_NODES:,} values "
                "(an alias bomb?); write the values out",
                node,
            )
        if len(path) > MAX_DEPTH:
            raise _TooLarge(f"document is nested more than {MAX_DEPTH} levels deep", node)
        if id(node) in self._open:
            raise _TooLarge("an alias refers to itself; YAML recursion is not allowed", node)
        mark = node.start_mark
        self.source_map.values[path] = (mark.line + 1, mark.column + 1)
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node, path)
        if node.tag not in _COLLECTION_TAGS:
            self._report(node, path, f"YAML tag {_tag_text(node.tag)!r} is not allowed; remove it")
        self._open.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                return [self.build(item, (*path, index)) for index, item in enumerate(node.value)]
            if isinstance(node, yaml.MappingNode):
                return self._mapping(node, path)
        finally:
            self._open.discard(id(node))
        return None  # pragma: no cover - the composer makes only the three node kinds

    def _scalar(self, node: yaml.ScalarNode, path: Path_) -> Any:
        self.source_map.scalars[path] = ScalarSource(node.value, node.style in ("'", '"'))
        if node.tag not in self._constructor.yaml_constructors:  # !!python/..., !custom
            self._report(node, path, f"YAML tag {_tag_text(node.tag)!r} is not allowed; remove it")
            return node.value
        try:
            return self._constructor.construct_object(node)
        except (yaml.YAMLError, ValueError, OverflowError) as error:
            # e.g. a timestamp-looking value that is not a real date: 2024-13-45
            reason = " ".join(str(error).split())
            self._report(node, path, f"cannot read {node.value!r} ({reason}); quote it")
            return node.value

    def _mapping(self, node: yaml.MappingNode, path: Path_) -> dict[str, Any]:
        result: dict[str, Any] = {}
        first_seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                self._report(
                    key_node, path, "merge keys ('<<') are not supported; write the keys out"
                )
                continue
            if not isinstance(key_node, yaml.ScalarNode) or not key_node.tag.endswith(":str"):
                text = key_node.value if isinstance(key_node, yaml.ScalarNode) else "a collection"
                self._report(key_node, path, f"key {text!r} must be plain text; quote it")
                continue
            key = str(key_node.value)
            key_line = key_node.start_mark.line + 1
            if key in first_seen:
                self._report(
                    key_node,
                    (*path, key),
                    f"duplicate key (first written on line {first_seen[key]}); keep one",
                )
                continue
            first_seen[key] = key_line
            self.source_map.keys[(*path, key)] = (key_line, key_node.start_mark.column + 1)
            result[key] = self.build(value_node, (*path, key))
        return result

    def _report(self, node: yaml.Node, path: Path_, message: str) -> None:
        mark = node.start_mark
        self.problems.append(
            Problem(self.display, mark.line + 1, mark.column + 1, format_path(path), message)
        )


def iter_paths(value: Any, path: Path_ = ()) -> Iterator[Path_]:
    """Every path inside a plain value, parents before children (used by tests)."""
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from iter_paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from iter_paths(item, (*path, index))
