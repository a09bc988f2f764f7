"""Sticky comments and the drift issue against a local fake of GitHub's REST API."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reconciler.cli import app
from reconciler.errors import GitHubApiError, UsageError
from reconciler.github.client import GitHubClient, pull_request_number
from reconciler.github.sticky import GITHUB_COMMENT_LIMIT, marker
from reconciler.sandbox.github import FakeGitHub

runner = CliRunner()
TOKEN = "write-token"  # noqa: S105 - the fake's test token
FORK_TOKEN = "fork-token"  # noqa: S105 - the fake's read-only token
PR = 7


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with FakeGitHub() as fake:
        yield fake


def client_for(fake: FakeGitHub, token: str = TOKEN) -> GitHubClient:
    return GitHubClient(token=token, repository=fake.state.repository, api_url=fake.url)


def env_for(fake: FakeGitHub, token: str = TOKEN) -> dict[str, str]:
    return {
        "GITHUB_TOKEN": token,
        "GITHUB_REPOSITORY": fake.state.repository,
        "GITHUB_API_URL": fake.url,
        "PR_NUMBER": str(PR),
    }


def test_second_push_updates_the_same_comment(github: FakeGitHub) -> None:
    """The first post creates the comment, the next updates it, an unchanged one sends nothing."""
    client = client_for(github)
    first = client.post_sticky(PR, "## plan\n1 change", "plan")
    second = client.post_sticky(PR, "## plan\n2 changes", "plan")
    third = client.post_sticky(PR, "## plan\n2 changes", "plan")
    comments = github.state.comments_on(PR)
    assert (first.created, second.updated, third.unchanged) == (1, 1, 1)
    assert len(comments) == 1
    assert comments[0]["body"] == f"{marker('plan')}\n## plan\n2 changes"
    writes = [r for r in github.state.requests if r[0] != "GET"]
    assert len(writes) == 2  # create, update; the unchanged third post sent nothing


def test_comment_found_on_a_later_page(github: FakeGitHub) -> None:
    """With 250 other comments before it, ours is found through the pages and updated."""
    for index in range(250):
        github.state.add_comment(PR, f"review note {index}", bot=False)
    github.state.add_comment(PR, f"{marker('plan')}\nold", bot=True)
    result = client_for(github).post_sticky(PR, "new", "plan")
    assert (result.created, result.updated) == (0, 1)
    pages = [r for r in github.state.requests if r[0] == "GET"]
    assert len(pages) == 3  # 100 + 100 + 51 comments


def test_long_plan_becomes_several_comments_and_shrinks_back(github: FakeGitHub) -> None:
    """Over 65,536 characters the plan spans comments; a shorter plan deletes the extras."""
    long_report = "\n".join(f"| row {i} | {'z' * 80} |" for i in range(3000))
    client = client_for(github)
    grown = client.post_sticky(PR, long_report, "plan")
    bodies = [c["body"] for c in github.state.comments_on(PR)]
    assert grown.created == len(bodies) >= 4
    assert all(len(b) <= GITHUB_COMMENT_LIMIT for b in bodies)
    shrunk = client.post_sticky(PR, "short now", "plan")
    assert (shrunk.updated, shrunk.deleted) == (1, len(bodies) - 1)
    assert len(github.state.comments_on(PR)) == 1


def test_fake_refuses_a_body_over_the_limit(github: FakeGitHub) -> None:
    """GitHub's 65,536-character limit is enforced by the fake, so a wrong split fails loudly."""
    with pytest.raises(GitHubApiError, match="HTTP 422"):
        client_for(github).create_comment(PR, "x" * (GITHUB_COMMENT_LIMIT + 1))


def test_fork_token_gets_a_clear_one_line_error(github: FakeGitHub, tmp_path: Path) -> None:
    """A read-only (fork) token: exit 1 and one line that says why, never the token."""
    result = runner.invoke(
        app,
        ["comment", str(_report(tmp_path, "plan")), "--kind", "plan"],
        env=env_for(github, token=FORK_TOKEN),
    )
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert "HTTP 403" in lines[0]
    assert "fork" in lines[0]
    assert FORK_TOKEN not in result.output


def test_comment_command_posts_and_reports_counts(github: FakeGitHub, tmp_path: Path) -> None:
    """`alma-groups comment plan.md` creates, then updates, the sticky comment."""
    report = _report(tmp_path, "## alma-groups plan\nno changes")
    first = runner.invoke(app, ["comment", str(report)], env=env_for(github))
    second = runner.invoke(app, ["comment", str(report)], env=env_for(github))
    assert first.exit_code == 0, first.output
    assert "1 created" in first.output
    assert "1 unchanged" in second.output
    assert TOKEN not in first.output + second.output


def test_drift_issue_opens_updates_and_closes(github: FakeGitHub, tmp_path: Path) -> None:
    """One drift issue: opened with the report, updated next night, closed when clean."""
    env = env_for(github)
    opened = runner.invoke(app, ["drift-issue", str(_report(tmp_path, "ucf: staff edit"))], env=env)
    updated = runner.invoke(app, ["drift-issue", str(_report(tmp_path, "ucf, fiu"))], env=env)
    issues = list(github.state.issues.values())
    assert "opened issue #1" in opened.output
    assert "updated issue #1" in updated.output
    assert len(issues) == 1
    assert issues[0]["body"] == "ucf, fiu"
    closed = runner.invoke(app, ["drift-issue", "--clean"], env=env)
    assert "closed issue #1" in closed.output
    assert issues[0]["state"] == "closed"
    again = runner.invoke(app, ["drift-issue", "--clean"], env=env)
    assert again.exit_code == 0
    assert "no drift issue open" in again.output


def test_missing_environment_is_a_usage_error(tmp_path: Path) -> None:
    """Without GITHUB_TOKEN the command says which variable is missing and exits 1."""
    report = tmp_path / "plan.md"
    report.write_text("x")
    result = runner.invoke(app, ["comment", str(report), "--pr", "3"], env={"GITHUB_TOKEN": ""})
    assert result.exit_code == 1
    assert "GITHUB_TOKEN is not set" in result.output


def test_plain_http_is_refused_except_on_loopback() -> None:
    """The token is never sent over plain http to another host."""
    with pytest.raises(UsageError, match="https"):
        GitHubClient(token=TOKEN, repository="a/b", api_url="http://github.example")
    GitHubClient(token=TOKEN, repository="a/b", api_url="http://127.0.0.1:9")


def test_pull_request_number_from_the_actions_event(tmp_path: Path) -> None:
    """--pr wins, then PR_NUMBER, then the event file Actions writes."""
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 42}}))
    assert pull_request_number({"GITHUB_EVENT_PATH": str(event)}) == 42
    assert pull_request_number({"PR_NUMBER": "5", "GITHUB_EVENT_PATH": str(event)}) == 5
    assert pull_request_number({}, 9) == 9
    with pytest.raises(UsageError, match="--pr"):
        pull_request_number({})


def test_merged_pull_request_of_a_commit(github: FakeGitHub) -> None:
    """Apply finds the pull request a merge commit came from, to post its report there."""
    github.state.commit_pulls["abc1234"] = 12
    client = client_for(github)
    assert client.pull_request_of_commit("abc1234") == 12
    assert client.pull_request_of_commit("def5678") is None


def _report(directory: Path, text: str) -> Path:
    path = directory / f"report-{len(list(directory.iterdir()))}.md"
    path.write_text(text, encoding="utf-8")
    return path
