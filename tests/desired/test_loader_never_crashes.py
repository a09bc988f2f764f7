"""Property: whatever bytes reach the loader, the result is problems or a valid model."""

from __future__ import annotations

from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.desired import validate_paths
from reconciler.model import DesiredState

from ..builders import INSTITUTION_YAML, USER_GROUPS_YAML

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 120),
    st.floats(allow_nan=False, allow_infinity=False),
    st.dates(),
    st.text(max_size=12),
    st.sampled_from(["01", "GUEST", "15", "no", "A-1", "", "guest", "move_users_to"]),
)
keys = st.sampled_from(
    [
        "code",
        "description",
        "default",
        "reason",
        "move_users_to",
        "move_user_to",
        "purge_inactive_users",
        "delete_row",
        "acknowledge_users_moved",
        "groups",
        "retired",
    ]
)
values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=5),
    max_leaves=25,
)
documents = st.dictionaries(st.sampled_from(["groups", "retired", "extra"]), values, max_size=3)

SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def check(root: Path, user_groups: bytes) -> None:
    folder = root / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "institution.yaml").write_text(
        INSTITUTION_YAML.format(slug="demo", upper="DEMO"), encoding="utf-8"
    )
    (folder / "user-groups.yaml").write_bytes(user_groups)
    report = validate_paths([root], cwd=root)
    if report.problems:
        assert report.state is None
        for problem in report.problems:
            assert problem.file.startswith("demo"), problem
            assert problem.message
            assert "\n" not in str(problem)
    else:
        assert isinstance(report.state, DesiredState)


@SETTINGS
@given(document=documents)
def test_generated_documents_give_problems_or_a_model(tmp_path: Path, document: object) -> None:
    """Random structures of plausible keys and hostile scalars never raise."""
    check(tmp_path, yaml.safe_dump(document, allow_unicode=True).encode())


@SETTINGS
@given(
    cut=st.integers(0, len(USER_GROUPS_YAML)),
    insert=st.binary(max_size=6),
)
def test_mutated_valid_documents_give_problems_or_a_model(
    tmp_path: Path, cut: int, insert: bytes
) -> None:
    """A valid file with bytes spliced in anywhere is read or reported, never a traceback."""
    raw = USER_GROUPS_YAML.encode()
    check(tmp_path, raw[:cut] + insert + raw[cut:])


@SETTINGS
@given(raw=st.binary(max_size=200))
def test_arbitrary_bytes_give_problems_or_a_model(tmp_path: Path, raw: bytes) -> None:
    """Even random bytes only ever produce problems."""
    check(tmp_path, raw)
