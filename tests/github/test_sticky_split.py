"""Cutting reports into comment bodies and deciding which comments to create, update or delete."""

from __future__ import annotations

from reconciler.github.sticky import (
    GITHUB_COMMENT_LIMIT,
    NEXT_COMMENT,
    Comment,
    CommentUpdate,
    marker,
    plan_comment_updates,
    split_into_comments,
)
from reconciler.render.approvals import render_approvals_markdown


def test_short_report_is_one_marked_comment() -> None:
    """A short report becomes one body that starts with the kind's hidden marker."""
    assert split_into_comments("## plan\nok\n", "plan") == [f"{marker('plan')}\n## plan\nok"]


def test_renderer_markers_split_and_keep_one_marker_each() -> None:
    """The renderer's next-comment markers start new bodies; a body already marked is kept."""
    report = f"{marker('plan')}\none\n{NEXT_COMMENT}\n{marker('plan')}\ntwo\n"
    assert split_into_comments(report, "plan") == [
        f"{marker('plan')}\none",
        f"{marker('plan')}\ntwo",
    ]


def test_long_report_is_cut_at_lines_under_the_limit() -> None:
    """A 200,000-character report is cut at line boundaries into marked bodies under 65,536."""
    lines = [f"| group {i:05d} | {'x' * 60} |" for i in range(2700)]
    bodies = split_into_comments("\n".join(lines), "plan")
    assert len(bodies) >= 3
    assert all(len(b) <= GITHUB_COMMENT_LIMIT for b in bodies)
    assert all(b.startswith(marker("plan")) for b in bodies)
    kept = [line for b in bodies for line in b.splitlines() if line.startswith("| group")]
    assert kept == lines  # nothing lost, nothing cut mid-line


def test_a_single_huge_line_is_cut_hard() -> None:
    """A line longer than a whole comment is cut inside itself rather than refused by GitHub."""
    bodies = split_into_comments("y" * 150_000, "apply")
    assert all(len(b) <= GITHUB_COMMENT_LIMIT for b in bodies)
    text = "".join(b.removeprefix(marker("apply")) for b in bodies)
    assert text.count("y") == 150_000


def test_updates_reuse_ours_create_missing_and_delete_leftovers() -> None:
    """Ours are updated in order (unchanged ones skipped), extras created, leftovers deleted."""
    mine = marker("plan")
    existing = [
        Comment(1, f"{mine}\nold one", author_is_bot=True),
        Comment(2, "a reviewer's comment", author_is_bot=False),
        Comment(3, f"{mine}\nsame", author_is_bot=True),
        Comment(4, f"{mine}\nleft over", author_is_bot=True),
        Comment(5, f"{mine}\nquoted by a person", author_is_bot=False),
        Comment(6, f"{marker('apply')}\nanother kind", author_is_bot=True),
    ]
    updates = plan_comment_updates(existing, [f"{mine}\nnew one", f"{mine}\nsame"], "plan")
    assert updates == [CommentUpdate(1, f"{mine}\nnew one"), CommentUpdate(4, None)]
    fresh = plan_comment_updates([], [f"{mine}\na", f"{mine}\nb"], "plan")
    assert fresh == [CommentUpdate(None, f"{mine}\na"), CommentUpdate(None, f"{mine}\nb")]


def test_approvals_name_each_institutions_owners_when_several() -> None:
    """A pull request touching two institutions names both owners; one institution needs none."""
    text = render_approvals_markdown({"ucf": ["@flvc-alma/ucf"], "fiu": ["@flvc-alma/fiu", "@x"]})
    assert "changes 2 institutions" in text
    assert "- `fiu`: @flvc-alma/fiu, @x" in text
    assert "- `ucf`: @flvc-alma/ucf" in text
    assert render_approvals_markdown({"ucf": ["@flvc-alma/ucf"]}) == ""
