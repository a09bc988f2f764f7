"""Reading YAML safely: positions, duplicate keys, limits and hostile documents."""

from __future__ import annotations

from reconciler.desired.yaml_source import (
    MAX_DOCUMENT_BYTES,
    Document,
    format_path,
    iter_paths,
    parse_document,
)
from reconciler.model import Problem


def parse_ok(text: str) -> Document:
    result = parse_document(text.encode(), "f.yaml")
    assert isinstance(result, Document), result
    return result


def parse_problems(raw: bytes) -> list[Problem]:
    result = parse_document(raw, "f.yaml")
    if isinstance(result, Document):
        return list(result.problems)
    return result


def test_positions_are_one_based_for_values_and_keys() -> None:
    """Every value and key is mapped to the 1-based line and column where it was written."""
    document = parse_ok("groups:\n  - code: '01'\n    description: Undergrad\n")
    where = document.source_map
    assert where.value_position(("groups", 0, "code")) == (2, 11)
    assert where.key_position(("groups", 0, "description")) == (3, 5)
    assert where.value_position(("groups",)) == (2, 3)


def test_unknown_path_falls_back_to_nearest_parent() -> None:
    """A path with no node of its own (a missing key) is placed on its closest parent."""
    document = parse_ok("groups:\n  - code: '01'\n")
    assert document.source_map.value_position(("groups", 0, "description")) == (2, 5)


def test_format_path_reads_like_the_yaml() -> None:
    """Paths print as people would write them: retired[0].move_users_to."""
    assert format_path(("retired", 0, "move_users_to")) == "retired[0].move_users_to"
    assert format_path(()) == ""


def test_scalar_source_remembers_quoting() -> None:
    """The loader keeps the text and quoting of scalars so messages can quote them back."""
    document = parse_ok("a: 01\nb: '01'\n")
    assert document.content == {"a": 1, "b": "01"}
    assert not document.source_map.scalars[("a",)].quoted
    assert document.source_map.scalars[("b",)].quoted


def test_duplicate_keys_are_reported_not_overwritten() -> None:
    """A repeated key is a problem on the second key's line; the first value is kept."""
    result = parse_document(b"a: 1\nb: 2\na: 3\n", "f.yaml")
    assert isinstance(result, Document)
    assert result.content == {"a": 1, "b": 2}
    assert [str(p) for p in result.problems] == [
        "f.yaml:3:1: a: duplicate key (first written on line 1); keep one"
    ]


def test_billion_laughs_is_stopped_by_the_node_budget() -> None:
    """Nested aliases that would expand to millions of values are refused, quickly."""
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for name, previous in zip("bcdefghi", "abcdefgh", strict=True):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
    problems = parse_problems("\n".join(lines).encode())
    assert len(problems) == 1
    assert "alias bomb" in problems[0].message


def test_self_referencing_alias_is_refused() -> None:
    """An anchor that contains itself cannot be turned into a value and says so."""
    problems = parse_problems(b"a: &x [1, *x]\n")
    assert [p.message for p in problems] == [
        "an alias refers to itself; YAML recursion is not allowed"
    ]


def test_oversized_document_is_refused_before_parsing() -> None:
    """A document above the size cap is refused with its size and the limit."""
    raw = b"# " + b"x" * MAX_DOCUMENT_BYTES + b"\n"
    problems = parse_problems(raw)
    assert problems[0].message.startswith("file is ")
    assert "the limit is" in problems[0].message


def test_binary_and_non_utf8_documents_are_named_as_such() -> None:
    """NUL bytes and invalid UTF-8 get their own messages with the offending position."""
    assert parse_problems(b"a: 1\nb: \x00\n")[0].message.startswith("file is binary")
    latin1 = parse_problems("a: 1\nb: caf\xe9\n".encode("latin-1"))[0]
    assert (latin1.line, latin1.column) == (2, 7)
    assert "not UTF-8" in latin1.message


def test_empty_and_comment_only_documents_are_empty() -> None:
    """A file with nothing but white space or comments is reported as empty."""
    for raw in (b"", b"\n\n", b"# only a comment\n"):
        assert parse_problems(raw)[0].message == "file is empty; expected a YAML mapping"


def test_byte_order_mark_is_accepted() -> None:
    """A UTF-8 BOM, which Windows editors add, does not break reading."""
    assert parse_ok("\ufeffa: b\n").content == {"a": "b"}


def test_python_tags_are_never_constructed() -> None:
    """Unsafe tags are refused: the loader builds only plain data."""
    problems = parse_problems(b"a: !!python/object/apply:os.system ['true']\n")
    assert problems
    assert all(p.line == 1 for p in problems)


def test_merge_keys_and_second_documents_are_refused() -> None:
    """Merge keys and multi-document files are reported with the way out."""
    merge = parse_problems(b"base: &b {x: 1}\nother:\n  <<: *b\n")
    assert "merge keys" in merge[0].message
    second = parse_problems(b"a: 1\n---\nb: 2\n")
    assert second[0].line == 3  # where the second document begins
    assert "more than one YAML document" in second[0].message


def test_syntax_errors_carry_libyaml_position() -> None:
    """Invalid YAML is reported at the line and column where parsing failed."""
    problem = parse_problems(b"a: 'unclosed\nb: 2\n")[0]
    assert problem.message.startswith("invalid YAML:")
    assert problem.line >= 1


def test_iter_paths_walks_parents_before_children() -> None:
    """iter_paths yields every path of a value, parents first."""
    assert list(iter_paths({"a": [1, {"b": 2}]})) == [
        (),
        ("a",),
        ("a", 0),
        ("a", 1),
        ("a", 1, "b"),
    ]
