"""git: the commit being planned, institutions a branch changed, and CODEOWNERS."""

from __future__ import annotations

from pathlib import Path

import git
import pytest

from reconciler import gitops
from reconciler.desired import load_desired_state
from reconciler.errors import UsageError

from ..builders import write_institution


@pytest.fixture
def repo(tmp_path: Path) -> git.Repo:
    repository = git.Repo.init(tmp_path, initial_branch="main")
    with repository.config_writer() as config:
        config.set_value("user", "name", "Test")
        config.set_value("user", "email", "test@example.invalid")
    for slug in ("aaa", "bbb", "ccc"):
        write_institution(tmp_path / "institutions", slug)
    repository.git.add(A=True)
    repository.index.commit("three institutions")
    return repository


def test_changed_institutions_on_a_branch(repo: git.Repo) -> None:
    """Only institutions whose files a branch changed are listed, committed or not."""
    root = Path(repo.working_tree_dir or ".")
    repo.git.checkout("-b", "proposal")
    groups = root / "institutions" / "bbb" / "user-groups.yaml"
    groups.write_text(groups.read_text() + "# a comment\n")
    repo.git.commit("-am", "edit bbb")
    (root / "institutions" / "ccc" / "institution.yaml").write_text("slug: ccc\n")  # uncommitted
    write_institution(root / "institutions", "ddd")  # untracked
    assert gitops.changed_institutions(root, "main", root / "institutions") == ["bbb", "ccc", "ddd"]


def test_changes_on_the_base_branch_do_not_count(repo: git.Repo) -> None:
    """Commits that landed on main after the branch point are not the branch's changes."""
    root = Path(repo.working_tree_dir or ".")
    repo.git.checkout("-b", "proposal")
    repo.git.checkout("main")
    path = root / "institutions" / "aaa" / "user-groups.yaml"
    path.write_text(path.read_text() + "# on main\n")
    repo.git.commit("-am", "edit aaa on main")
    repo.git.checkout("proposal")
    assert gitops.changed_institutions(root, "main", root / "institutions") == []


def test_unknown_ref_and_no_repository(
    repo: git.Repo, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A bad reference or a folder outside git is a usage error, not a traceback."""
    root = Path(repo.working_tree_dir or ".")
    with pytest.raises(UsageError, match="unknown git reference 'nope'"):
        gitops.changed_institutions(root, "nope", root / "institutions")
    outside = tmp_path_factory.mktemp("outside")
    with pytest.raises(UsageError, match="not inside a git repository"):
        gitops.changed_institutions(outside, "main", outside)
    assert gitops.current_commit(outside) is None


def test_current_commit(repo: git.Repo) -> None:
    """current_commit is HEAD's full SHA."""
    assert gitops.current_commit(Path(repo.working_tree_dir or ".")) == repo.head.commit.hexsha


def test_codeowners_lists_each_folder_with_its_owners(repo: git.Repo) -> None:
    """CODEOWNERS has one line per institution folder naming its owners."""
    state = load_desired_state(Path(repo.working_tree_dir or ".") / "institutions")
    text = gitops.render_codeowners(state)
    assert "/institutions/aaa/ @flvc-alma/aaa\n" in text
    assert text.count("\n/institutions/") == 3
