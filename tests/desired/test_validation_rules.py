"""The validation rules: schema wording and the checks across entries, files and institutions."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.desired import load_desired_state, validate_paths
from reconciler.errors import ConfigError, UsageError
from reconciler.model import KeptGroup, RetiredGroup

from ..builders import INSTITUTION_YAML, USER_GROUPS_YAML, write_institution


def messages(root: Path) -> list[str]:
    report = validate_paths([root], cwd=root)
    return [f"{p.file}:{p.line}:{p.column}: {p.key}: {p.message}" for p in report.problems]


def groups_with(extra: str) -> str:
    return USER_GROUPS_YAML + extra


def test_valid_tree_builds_the_model(tmp_path: Path) -> None:
    """A valid institution becomes frozen dataclasses with defaults and source lines."""
    write_institution(tmp_path, "demo")
    state = load_desired_state(tmp_path)
    demo = state.institutions[0]
    assert demo.institution.slug == "demo"
    assert demo.institution.patron_load.lookback_days == 400
    assert demo.institution.safety.protected_groups == ("01",)
    assert demo.user_groups.groups[0] == KeptGroup("01", "Undergraduate", default=True)
    assert demo.user_groups.retired == (
        RetiredGroup("15", "Autologin", "No active users since 2019 (ticket 4711).", "GUEST"),
    )
    assert demo.user_groups.retired[0].location.line == 8


def test_move_target_must_be_kept_with_a_hint(tmp_path: Path) -> None:
    """A move to an unknown group names the group and suggests the near miss."""
    write_institution(
        tmp_path, "demo", user_groups=USER_GROUPS_YAML.replace('to: "GUEST"', 'to: "GEUST"')
    )
    assert messages(tmp_path) == [
        "demo/user-groups.yaml:11:20: retired[0].move_users_to: "
        "'GEUST' is not a kept group; did you mean 'GUEST'?"
    ]


def test_move_target_may_not_be_retired(tmp_path: Path) -> None:
    """Users cannot be moved into another group that is being retired."""
    extra = (
        '  - code: "99"\n    description: Mango\n    reason: Mango catalogue retired in 2020.\n'
        '    move_users_to: "15"\n'
    )
    write_institution(tmp_path, "demo", user_groups=groups_with(extra))
    assert messages(tmp_path) == [
        "demo/user-groups.yaml:15:20: retired[1].move_users_to: "
        "'15' is being retired too; move users to a kept group"
    ]


def test_code_kept_and_retired(tmp_path: Path) -> None:
    """A code may be kept or retired, not both."""
    extra = '  - code: "GUEST"\n    description: Guest\n    reason: Replaced by the 06 group.\n'
    write_institution(tmp_path, "demo", user_groups=groups_with(extra))
    assert messages(tmp_path) == [
        "demo/user-groups.yaml:12:11: retired[1].code: 'GUEST' is both kept (line 5) and "
        "retired; a group is either kept or retired",
    ]


def test_duplicate_and_case_only_codes(tmp_path: Path) -> None:
    """Repeated codes and codes that differ only in case are both reported."""
    text = USER_GROUPS_YAML.replace(
        "retired:",
        '  - code: "01"\n    description: Again\n  - code: "guest"\n    description: g\nretired:',
    )
    write_institution(tmp_path, "demo", user_groups=text)
    assert messages(tmp_path) == [
        "demo/user-groups.yaml:7:11: groups[2].code: duplicate code '01' (also on line 2); "
        "keep one",
        "demo/user-groups.yaml:9:11: groups[3].code: 'guest' differs from 'GUEST' (line 5) "
        "only in case; Alma keeps them apart but people will not, so rename one",
    ]


def test_second_default_is_reported(tmp_path: Path) -> None:
    """Only one kept group may be the default."""
    text = USER_GROUPS_YAML.replace(
        "    description: Guest borrower\n", "    description: Guest borrower\n    default: true\n"
    )
    write_institution(tmp_path, "demo", user_groups=text)
    assert messages(tmp_path) == [
        "demo/user-groups.yaml:7:14: groups[1].default: more than one default group: '01' "
        "(line 4) is already the default; Alma allows one"
    ]


def test_protected_group_retired_and_missing(tmp_path: Path) -> None:
    """A protected group may not be retired, and must be a kept group."""
    institution = INSTITUTION_YAML.format(slug="demo", upper="DEMO").replace(
        '["01"]', '["01", "15", "03"]'
    )
    write_institution(tmp_path, "demo", institution=institution)
    assert messages(tmp_path) == [
        "demo/institution.yaml:9:34: safety.protected_groups[2]: "
        "'03' is not a kept group in user-groups.yaml",
        "demo/user-groups.yaml:8:11: retired[0].code: '15' is a protected group "
        "(institution.yaml safety.protected_groups); remove it from protected_groups first "
        "if it really must go",
    ]


def test_unquoted_codes_say_quote_it(tmp_path: Path) -> None:
    """Codes YAML turned into numbers, booleans or dates are reported with the fix."""
    text = (
        "groups:\n  - code: 01\n    description: a\n    default: true\n"
        "  - code: no\n    description: b\n  - code: 2024-01-01\n    description: c\n"
        "  - code: 15\n    description: d\n"
    )
    write_institution(
        tmp_path,
        "demo",
        user_groups=text,
        institution=INSTITUTION_YAML.format(slug="demo", upper="DEMO").replace('["01"]', "[]"),
    )
    assert messages(tmp_path) == [
        'demo/user-groups.yaml:2:11: groups[0].code: 01 was read as a number (1); quote it: "01"',
        "demo/user-groups.yaml:5:11: groups[1].code: no was read as a boolean (false); "
        'quote it: "no"',
        "demo/user-groups.yaml:7:11: groups[2].code: 2024-01-01 was read as a date; "
        'quote it: "2024-01-01"',
        'demo/user-groups.yaml:9:11: groups[3].code: 15 was read as a number (15); quote it: "15"',
    ]


def test_unknown_key_with_and_without_a_near_miss(tmp_path: Path) -> None:
    """Unknown keys are placed on the key itself, with a suggestion when one is close."""
    text = USER_GROUPS_YAML.replace("move_users_to", "move_user_to") + "colour: red\n"
    write_institution(tmp_path, "demo", user_groups=text)
    assert messages(tmp_path) == [
        "demo/user-groups.yaml:11:5: retired[0].move_user_to: unknown key; "
        "did you mean 'move_users_to'?",
        "demo/user-groups.yaml:12:1: colour: unknown key; allowed keys: groups, retired",
    ]


def test_slug_must_match_folder(tmp_path: Path) -> None:
    """The slug and the folder name must agree."""
    write_institution(
        tmp_path, "demo", institution=INSTITUTION_YAML.format(slug="dmeo", upper="DEMO")
    )
    assert messages(tmp_path) == [
        "demo/institution.yaml:1:7: slug: 'dmeo' does not match its folder 'demo'; "
        "rename one of them"
    ]


def test_alma_code_and_key_variable_unique_across_institutions(tmp_path: Path) -> None:
    """Two institutions sharing an Alma code or key variable are both reported."""
    write_institution(tmp_path, "aaa")
    clash = INSTITUTION_YAML.format(slug="bbb", upper="AAA").replace(
        "name: Test Institution AAA", "name: Other"
    )
    write_institution(tmp_path, "bbb", institution=clash)
    found = messages(tmp_path)
    assert len(found) == 4
    assert found[0] == (
        "aaa/institution.yaml:2:12: alma_code: '01TEST_AAA' is also used by "
        "bbb/institution.yaml; each institution needs its own"
    )


def test_single_file_argument_still_checks_siblings(tmp_path: Path) -> None:
    """Validating one changed file still catches an Alma code copied from another folder."""
    write_institution(tmp_path, "aaa")
    clash = INSTITUTION_YAML.format(slug="bbb", upper="AAA")
    write_institution(tmp_path, "bbb", institution=clash)
    report = validate_paths([tmp_path / "bbb" / "user-groups.yaml"], cwd=tmp_path)
    assert {p.file for p in report.problems} == {"bbb/institution.yaml"}
    assert report.institutions_checked == ("bbb",)


def test_missing_and_misspelt_files(tmp_path: Path) -> None:
    """A folder without its two files, or with a misspelt one, is reported by name."""
    folder = tmp_path / "demo"
    folder.mkdir()
    (folder / "institution.yaml").write_text(
        INSTITUTION_YAML.format(slug="demo", upper="DEMO"), encoding="utf-8"
    )
    (folder / "user-group.yaml").write_text(USER_GROUPS_YAML, encoding="utf-8")
    assert [str(p) for p in validate_paths([tmp_path], cwd=tmp_path).problems] == [
        "demo: missing user-groups.yaml: every institution folder needs institution.yaml "
        "and user-groups.yaml",
        "demo: unexpected file 'user-group.yaml'; did you mean 'user-groups.yaml'?",
    ]


def test_load_raises_config_error_with_every_problem(tmp_path: Path) -> None:
    """load_desired_state refuses an invalid tree with all problems, sorted."""
    write_institution(tmp_path, "demo", user_groups="groups: []\nextra: 1\n")
    with pytest.raises(ConfigError) as caught:
        load_desired_state(tmp_path)
    assert [p.key for p in caught.value.problems] == [
        "safety.protected_groups[0]",  # institution.yaml sorts before user-groups.yaml
        "groups",
        "extra",
    ]


def test_unknown_slug_and_missing_root(tmp_path: Path) -> None:
    """Asking for an institution that does not exist suggests the near miss."""
    write_institution(tmp_path, "demo")
    with pytest.raises(UsageError, match="unknown institution 'dmeo'; did you mean 'demo'"):
        load_desired_state(tmp_path, ["dmeo"])
    with pytest.raises(UsageError, match="no such folder"):
        load_desired_state(tmp_path / "nope")


def test_subset_of_slugs_loads_only_those(tmp_path: Path) -> None:
    """Naming slugs loads just those institutions, in the order given."""
    for slug in ("ccc", "aaa", "bbb"):
        write_institution(tmp_path, slug)
    state = load_desired_state(tmp_path, ["bbb", "aaa"])
    assert state.slugs() == ("bbb", "aaa")


def test_committed_patron_load_history_is_checked(tmp_path: Path) -> None:
    """A damaged patron-load-history.json is reported by validate, with its position."""
    folder = write_institution(tmp_path, "demo")
    (folder / "patron-load-history.json").write_text('{"format', encoding="utf-8")
    problems = validate_paths([tmp_path], cwd=tmp_path).problems
    assert len(problems) == 1
    assert problems[0].file == "demo/patron-load-history.json"
    assert (problems[0].line, problems[0].column) == (1, 2)
    assert problems[0].message.startswith("not valid JSON")


def test_in_patron_loads_false_marks_a_kept_group_assigned_by_hand(tmp_path: Path) -> None:
    """`in_patron_loads: false` reaches the model; left out, a group counts as loaded."""
    marked = USER_GROUPS_YAML.replace(
        "    description: Guest borrower\n",
        "    description: Guest borrower\n    in_patron_loads: false\n",
    )
    write_institution(tmp_path, "demo", user_groups=marked)
    groups = load_desired_state(tmp_path).institutions[0].user_groups
    assert [g.in_patron_loads for g in groups.groups] == [True, False]
    assert groups.assigned_by_hand() == frozenset({"GUEST"})


def test_in_patron_loads_must_be_a_boolean_on_a_kept_group(tmp_path: Path) -> None:
    """A word instead of a boolean, or the key on a retired entry, is a one-line problem."""
    wrong_type = USER_GROUPS_YAML.replace(
        "    description: Guest borrower\n",
        '    description: Guest borrower\n    in_patron_loads: "no"\n',
    )
    write_institution(tmp_path, "demo", user_groups=wrong_type)
    [problem] = messages(tmp_path)
    assert problem.startswith("demo/user-groups.yaml:7:22: groups[1].in_patron_loads: ")
    on_retired = USER_GROUPS_YAML.replace(
        '    move_users_to: "GUEST"\n', '    move_users_to: "GUEST"\n    in_patron_loads: false\n'
    )
    write_institution(tmp_path, "demo", user_groups=on_retired)
    assert messages(tmp_path) == [
        "demo/user-groups.yaml:12:5: retired[0].in_patron_loads: unknown key; allowed keys: "
        "acknowledge_users_moved, code, delete_row, description, move_users_to, "
        "purge_inactive_users, reason"
    ]
