"""Sticky comments: one logical comment per kind (plan, apply), updated in place on every push.

A rendered report may be longer than GitHub's 65,536-character limit for one comment, so it
is cut into parts at the renderer's `next-comment` markers and, if a part is still too long,
at line boundaries. Every part starts with a hidden marker naming its kind, so the next run
finds the comments it owns among everyone else's: it updates them in order, creates the ones
missing, and deletes the ones left over (a shorter plan than last time). Bodies that have not
changed are not sent again. Pure: the HTTP lives in `client`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

GITHUB_COMMENT_LIMIT = 65_536
NEXT_COMMENT = "<!-- alma-groups:next-comment -->"
TRUNCATED = "\n\n_(cut here: the rest follows in the next comment)_\n"


def marker(kind: str) -> str:
    """The hidden first line that marks a comment as ours, of one kind."""
    return f"<!-- alma-groups:{kind} -->"


@dataclass(frozen=True)
class Comment:
    """A comment as GitHub lists it: enough to decide whether it is ours."""

    id: int
    body: str
    author_is_bot: bool


@dataclass(frozen=True)
class CommentUpdate:
    """One call to make: create (comment_id None), update, or delete (body None)."""

    comment_id: int | None
    body: str | None


def split_into_comments(markdown: str, kind: str, limit: int = GITHUB_COMMENT_LIMIT) -> list[str]:
    """Comment bodies, each starting with the kind's marker and no longer than `limit`."""
    head = marker(kind)
    parts = [p.strip("\n") for p in markdown.split(NEXT_COMMENT)]
    bodies: list[str] = []
    for part in (p for p in parts if p.strip()):
        text = part if part.startswith(head) else f"{head}\n{part}"
        bodies += _cut(text, head, limit)
    return bodies or [f"{head}\n_(empty report)_"]


def _cut(text: str, head: str, limit: int) -> list[str]:
    """Cut at line boundaries so that every piece fits; only a line longer than a comment is
    cut inside itself."""
    if len(text) <= limit:
        return [text]
    room = limit - len(TRUNCATED)
    fresh = f"{head}\n"
    pieces: list[str] = []
    current = ""
    for whole in text.splitlines(keepends=True):
        line = whole
        while line:
            space = room - len(current)
            if len(line) <= space:
                current, line = current + line, ""
            elif current not in ("", fresh) and len(line) <= room - len(fresh):
                pieces.append(current + TRUNCATED)  # the line fits in a piece of its own
                current = fresh
            else:
                current, line = current + line[:space], line[space:]
                pieces.append(current + TRUNCATED)
                current = fresh
    pieces.append(current)
    return pieces


def plan_comment_updates(
    existing: Sequence[Comment], bodies: Sequence[str], kind: str
) -> list[CommentUpdate]:
    """The calls that turn our existing comments of `kind` into `bodies`, in order."""
    ours = [c for c in existing if c.author_is_bot and c.body.startswith(marker(kind))]
    updates: list[CommentUpdate] = []
    for index, body in enumerate(bodies):
        if index < len(ours):
            if ours[index].body != body:
                updates.append(CommentUpdate(ours[index].id, body))
        else:
            updates.append(CommentUpdate(None, body))
    updates += [CommentUpdate(stale.id, None) for stale in ours[len(bodies) :]]
    return updates
