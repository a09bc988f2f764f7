"""A progress bar across institutions for people at a terminal; silent in CI and pipes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager


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
