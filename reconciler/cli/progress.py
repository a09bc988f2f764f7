"""Progress for people at a terminal (rich bars on stderr); in CI, sparse lines or nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from rich.progress import TaskID


@contextmanager
def progress_bar(total: int, label: str, *, enabled: bool) -> Iterator[Callable[[str], None]]:
    """Yields `tick(slug)`, safe to call from worker threads; rich draws on stderr."""
    if not enabled or total <= 1:
        yield lambda _slug: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[last]}"),
        transient=True,
    ) as progress:
        task = progress.add_task(label, total=total, last="")

        def tick(slug: str) -> None:
            progress.update(task, advance=1, last=slug)

        yield tick


@contextmanager
def user_progress(*, terminal: bool) -> Iterator[Callable[[str, int, int], None]]:
    """Yields `update(slug, done, total)`: on a terminal a bar with ETA per institution (rich,
    on stderr); elsewhere (CI, pipes) one stderr line each time an institution passes 10 %."""
    if not terminal:
        reported: dict[str, int] = {}

        def line(slug: str, done: int, total: int) -> None:
            if total <= 0:
                return
            tenth = min(10, done * 10 // total)
            if tenth > reported.get(slug, 0):
                reported[slug] = tenth
                typer.echo(f"{slug}: {tenth * 10}% ({done:,} of {total:,} users)", err=True)

        yield line
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        transient=True,
    ) as progress:
        tasks: dict[str, TaskID] = {}

        def update(slug: str, done: int, total: int) -> None:
            if slug not in tasks:
                tasks[slug] = progress.add_task(slug, total=total)
            progress.update(tasks[slug], completed=done)

        yield update
