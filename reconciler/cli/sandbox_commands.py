"""The embedded sandbox from the command line: `sandbox serve|reset`, and `--sandbox`.

This is the only module outside tests that imports `reconciler.sandbox`: the core never
does. With `--sandbox`, a command starts the sandbox in-process on a free port, points the
run at it (ALMA_API_URL and each institution's key variable, in a copy of the environment),
and reads patron-load histories ingested from the sandbox's own SFTP files, so a demo never
writes into institutions/.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from reconciler.cli.root import app, guarded, institutions_root
from reconciler.errors import UsageError
from reconciler.model import Institution

STATE_DIR = Path(".sandbox")
# Faults for the sandbox that `--sandbox` starts, in `sandbox serve --faults` syntax, so a test
# or a curious operator can make the embedded sandbox as harsh as Alma is on a bad day.
FAULTS_ENV = "ALMA_SANDBOX_FAULTS"

sandbox_app = typer.Typer(
    name="sandbox",
    help="The embedded sandbox: a local Alma over HTTP for demos, tests and other tools.",
    no_args_is_help=True,
)
app.add_typer(sandbox_app)


@dataclass(frozen=True)
class AlmaTarget:
    """Where a run reads Alma and patron-load histories from."""

    env: Mapping[str, str]
    histories_root: Path
    sandbox_url: str | None = None


@contextmanager
def alma_target(use_sandbox: bool, institutions: Sequence[Institution]) -> Iterator[AlmaTarget]:
    """Real Alma (environment as it is), or a sandbox started for the length of the run.

    Real Alma with no key set for any of the institutions cannot read anything: that is one
    usage error suggesting --sandbox, before any call, not one error per institution.
    """
    if not use_sandbox:
        missing = [i.api_key_env for i in institutions if not os.environ.get(i.api_key_env, "")]
        if institutions and len(missing) == len(institutions):
            raise UsageError(_no_keys_message(missing))
        yield AlmaTarget(os.environ, institutions_root())
        return
    from reconciler.sandbox import FaultConfig, SandboxConfig, SandboxServer

    try:
        faults = FaultConfig.from_spec(os.environ.get(FAULTS_ENV, ""))
    except ValueError as error:
        raise UsageError(f"{FAULTS_ENV}: {error}") from None
    config = SandboxConfig(faults=faults)
    # the first run seeds the sandbox (seconds to minutes): say so rather than sit silent
    with SandboxServer(STATE_DIR, institutions_root(), config, progress=seeding_progress) as server:
        env = dict(os.environ)
        env["ALMA_API_URL"] = server.base_url
        keys = server.api_keys()
        for institution in institutions:
            env[institution.api_key_env] = keys[institution.slug]
        yield AlmaTarget(env, sandbox_histories(institutions), server.base_url)


def _no_keys_message(variables: Sequence[str]) -> str:
    shown = ", ".join(variables[:3]) + (
        f" and {len(variables) - 3} more" if len(variables) > 3 else ""
    )
    return (
        f"none of the {len(variables)} institution(s) can be read: no Alma API key is set "
        f"({shown}); put each key in the variable its institution.yaml names, or try the "
        "tool against the embedded sandbox with --sandbox"
    )


def seeding_progress(line: str) -> None:
    """The sandbox seeder's progress lines, on stderr so that stdout stays the command's."""
    typer.echo(line, err=True)


def sandbox_histories(institutions: Sequence[Institution]) -> Path:
    """Ingest the sandbox's SFTP patron-load files, as an operator would the real ones."""
    from reconciler.desired.loading import HISTORY_FILE
    from reconciler.patron_loads import ingest
    from reconciler.sandbox import DERIVED_HISTORY_DIR, sftp_dir

    root = STATE_DIR / DERIVED_HISTORY_DIR
    for institution in institutions:
        slug = institution.slug
        folder = sftp_dir(STATE_DIR, slug)
        if not folder.is_dir():
            continue
        entries = list(folder.rglob("*"))
        files = sorted(p for p in entries if p.suffix == ".zip")
        target = root / slug / HISTORY_FILE
        # the zips carry their load dates as mtimes; their folders carry the seeding time
        newest = max(p.stat().st_mtime for p in (folder, *entries) if p.is_dir())
        if files and (not target.exists() or target.stat().st_mtime < newest):
            target.parent.mkdir(parents=True, exist_ok=True)
            ingest(target, slug, files)
    return root


@sandbox_app.command("serve")
@guarded
def serve(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0: any free port).")] = 8765,
    state_dir: Annotated[Path, typer.Option("--dir", help="State folder.")] = STATE_DIR,
    latency_ms: Annotated[int, typer.Option(help="Added to every answer, in ms.")] = 0,
    faults: Annotated[
        str,
        typer.Option(
            "--faults",
            help="Fault rates, e.g. 5xx=0.05,429=0.02,drop=0.01,slow=0.1,slow_ms=800; "
            "lost=0.01 (carried out, answer lost); users list quirks: short=0.02 (short "
            "pages), wrong_total=0.01, unknown_total=0.01.",
        ),
    ] = "",
    per_second_limit: Annotated[
        int, typer.Option(help="Alma's per-second threshold per institution.")
    ] = 25,
) -> None:
    """Serve the sandbox until Ctrl-C; prints its URL and the API keys it accepts."""
    from reconciler.sandbox import FaultConfig, SandboxConfig, serve_forever

    try:
        fault_config = FaultConfig.from_spec(faults)
    except ValueError as error:
        raise UsageError(f"--faults: {error}") from None
    config = SandboxConfig(
        latency_ms=latency_ms, faults=fault_config, per_second_limit=per_second_limit
    )
    serve_forever(state_dir, institutions_root(), config, port=port, progress=seeding_progress)


@sandbox_app.command("reset")
@guarded
def reset(
    scale: Annotated[
        float, typer.Option(help="Fraction of each institution's real headcount (1: ~1M users).")
    ] = 0.01,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same Alma.")] = 1,
    state_dir: Annotated[Path, typer.Option("--dir", help="State folder.")] = STATE_DIR,
) -> None:
    """Recreate the sandbox's Alma from institutions/ (users, groups, loads, jobs).

    Progress goes to stderr, a line per institution: scale 1 (about a million users) takes
    minutes and about 0.7 GB of disk."""
    from reconciler.errors import UsageError
    from reconciler.sandbox import reset_sandbox

    if not scale > 0:
        raise UsageError("--scale must be above 0 (1 is about a million users; 0.01 about 10,000)")
    summary = reset_sandbox(
        state_dir, institutions_root(), scale=scale, seed=seed, progress=seeding_progress
    )
    typer.echo(
        f"seeded {len(summary.institutions)} institutions, {summary.total_users:,} users "
        f"(scale {summary.scale:g}, seed {summary.seed}) in {summary.seconds:.1f} s "
        f"into {summary.state_dir}"
    )
