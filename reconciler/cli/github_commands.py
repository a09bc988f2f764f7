"""Commands that talk to GitHub for CI: the sticky comment and the drift issue.

They live in the tool, not in workflow JavaScript, so they are tested (against a local fake of
GitHub's REST API) and rehearsed locally (`make rehearse`). Counts only: the bodies are the
renderers' Markdown, which never holds patron data.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from reconciler.cli.root import app, guarded

DRIFT_LABEL = "alma-groups-drift"
DRIFT_TITLE = "Live Alma has drifted from main"


def _read_report(path: Path) -> str:
    if not path.is_file():
        raise FileNotFoundError(2, "no such file", str(path))
    return path.read_text(encoding="utf-8")


@app.command()
@guarded
def comment(
    report: Annotated[
        Path, typer.Argument(help="Markdown to post (e.g. plan.md from `plan --format markdown`).")
    ],
    kind: Annotated[
        str,
        typer.Option(
            "--kind", help="Which sticky comment: plan, apply or another word.", metavar="KIND"
        ),
    ] = "plan",
    pr: Annotated[
        int | None,
        typer.Option(
            "--pr",
            help="Pull request number (default: PR_NUMBER, or the Actions event).",
            show_default=False,
            min=1,
        ),
    ] = None,
) -> None:
    """Create or update the sticky comment(s) of KIND on a pull request from a Markdown file.

    Uses GITHUB_TOKEN, GITHUB_REPOSITORY and GITHUB_API_URL from the environment.
    """
    from reconciler.github.client import GitHubClient, pull_request_number

    if not kind.isalnum():
        raise typer.BadParameter("KIND is one word of letters and digits", param_hint="--kind")
    markdown = _read_report(report)
    number = pull_request_number(os.environ, pr)
    client = GitHubClient.from_env(os.environ)
    try:
        result = client.post_sticky(number, markdown, kind)
    finally:
        client.close()
    typer.echo(
        f"pull request #{number}: {kind} comment {result.created} created, "
        f"{result.updated} updated, {result.deleted} deleted, {result.unchanged} unchanged"
    )


@app.command("drift-issue")
@guarded
def drift_issue(
    report: Annotated[
        Path | None,
        typer.Argument(
            help="Drift report (Markdown) to open or update the issue with.", show_default=False
        ),
    ] = None,
    clean: Annotated[
        bool, typer.Option("--clean", help="No drift: close the open drift issue, if any.")
    ] = False,
) -> None:
    """Keep ONE open issue (label alma-groups-drift) listing the drift; close it when clean."""
    from reconciler.github.client import GitHubClient

    if clean == (report is not None):
        raise typer.BadParameter("give either a REPORT or --clean, not both or neither")
    client = GitHubClient.from_env(os.environ)
    try:
        existing = client.find_open_issue(DRIFT_LABEL)
        if report is None:  # --clean
            if existing is None:
                typer.echo("no drift, and no drift issue open")
            else:
                client.create_comment(existing.number, "Live Alma matches main again.")
                client.update_issue(existing.number, closed=True)
                typer.echo(f"no drift: closed issue #{existing.number}")
            return
        body = _read_report(report)
        if existing is None:
            number = client.create_issue(DRIFT_TITLE, body, DRIFT_LABEL)
            typer.echo(f"drift: opened issue #{number}")
        else:
            client.update_issue(existing.number, body=body)
            typer.echo(f"drift: updated issue #{existing.number}")
    finally:
        client.close()
