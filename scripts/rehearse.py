"""Rehearse the GitOps loop on this machine: the workflows' steps, against the sandbox and a
fake GitHub, in a temporary git repository. `make rehearse` runs it; it exits 1 at the first
step that does not do what the workflows rely on, and prints where every artifact is.

    1. a repository whose main holds three institutions imported from the sandbox
    2. a pull request retiring a group in two of them → plan (Markdown, JSON), sticky comment
    3. a second push → the same comment is updated, not a new one posted
    4. the merge → the reviewed plan is applied, its journal written, its report posted
    5. drift finds nothing
    6. a staff edit in Alma (a retired group re-enabled) → drift says "staff edit"
    7. a patron load that brings a retired group back → drift says "patron load"
    8. a pull request merged after another one changed the same institution → apply refuses
       the stale plan (exit 3)

Each step runs the same `alma-groups` commands the workflows run (plan.yml, apply.yml,
drift.yml), with the environment Actions would give them; only `gh` (finding the reviewed
plan's artifact) is replaced by reading the files this script kept.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from reconciler.alma import AlmaClient
from reconciler.desired import load_desired_state
from reconciler.github.client import GitHubClient
from reconciler.sandbox import SandboxConfig, SandboxServer, sftp_dir
from reconciler.sandbox.github import FakeGitHub

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "institutions"
PICKED = ("bc", "cf", "tcc")  # three ordinary fixture institutions
TOKEN = "write-token"  # noqa: S105 - the fake GitHub's token
STEPS = 8
MAPPING_TABLE = "UserRecordTypeUserGroup"


class RehearsalFailed(Exception):
    """A step did not do what the workflows rely on."""


class Rehearsal:
    """The repository, the sandbox, the fake GitHub and the artifacts of one rehearsal."""

    def __init__(self, work: Path, artifacts: Path, sandbox: SandboxServer, github: FakeGitHub):
        self.repo = work / "repo"
        self.artifacts = artifacts
        self.sandbox = sandbox
        self.github = github
        self.env = self._environment()

    def _environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ALMA_", "GITHUB_"))}
        env.update(
            ALMA_API_URL=self.sandbox.base_url,
            GITHUB_API_URL=self.github.url,
            GITHUB_TOKEN=TOKEN,
            GITHUB_REPOSITORY=self.github.state.repository,
            CI="true",
            NO_COLOR="1",
        )
        desired = load_desired_state(self.repo / "institutions")
        keys = self.sandbox.api_keys()
        for state in desired.institutions:
            env[state.institution.api_key_env] = keys[state.institution.slug]
        return env

    # -- running things --------------------------------------------------------------------

    def run(self, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        """Run `alma-groups` in the repository with the workflow's environment."""
        return subprocess.run(
            [sys.executable, "-m", "reconciler", *args],
            cwd=self.repo,
            env={**self.env, **extra},
            capture_output=True,
            text=True,
            check=False,
        )

    def tool(self, *args: str, expect: int | tuple[int, ...] = 0, **extra: str) -> str:
        """Run `alma-groups`; check its exit code; return its stdout."""
        result = self.run(*args, **extra)
        wanted = (expect,) if isinstance(expect, int) else expect
        if result.returncode not in wanted:
            raise RehearsalFailed(
                f"`alma-groups {' '.join(args)}` exited {result.returncode}, wanted {wanted}:\n"
                f"{result.stderr.strip()[-2000:]}"
            )
        return result.stdout

    def plan_step(self) -> str:
        """plan.yml's step: the institutions the branch changed, Markdown out, JSON saved."""
        return self.tool(
            "plan", "--changed-since", "main", "--format", "markdown", "--out", "plan.json"
        )

    def git(self, *args: str) -> str:
        result = subprocess.run(
            ["git", *args], cwd=self.repo, capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise RehearsalFailed(f"git {' '.join(args)}: {result.stderr.strip()}")
        return result.stdout.strip()

    def keep(self, name: str, text: str) -> Path:
        path = self.artifacts / name
        path.write_text(text, encoding="utf-8")
        return path

    def client(self, slug: str) -> AlmaClient:
        desired = load_desired_state(self.repo / "institutions", [slug])
        return AlmaClient.for_institution(desired.institutions[0].institution, self.env)

    # -- the institutions' files -----------------------------------------------------------

    def groups_file(self, slug: str) -> Path:
        return self.repo / "institutions" / slug / "user-groups.yaml"

    def add_group(self, slug: str, code: str, description: str) -> None:
        """A new kept group, after the last one listed under `groups:`."""
        path = self.groups_file(slug)
        text = path.read_text(encoding="utf-8")
        entry = f'  - code: "{code}"\n    description: {description}\n'
        path.write_text(text.replace("retired:", entry + "retired:", 1), encoding="utf-8")

    def retire(self, slug: str, code: str, *, reason: str) -> None:
        """Move a kept group to `retired:`, its users going to the default group."""
        path = self.groups_file(slug)
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        default = _default_code(lines)
        start = lines.index(f'  - code: "{code}"\n')
        end = start + 1
        while end < len(lines) and lines[end].startswith("    "):
            end += 1
        block = lines[start:end]
        del lines[start:end]
        entry = [
            *block,
            f"    reason: {reason}\n",
            f'    move_users_to: "{default}"\n',
        ]
        if "retired: []\n" in lines:
            lines[lines.index("retired: []\n")] = "retired:\n"
        elif "retired:\n" not in lines:
            lines.append("retired:\n")
        lines += entry
        path.write_text("".join(lines), encoding="utf-8")


def _default_code(lines: list[str]) -> str:
    code = ""
    for line in lines:
        if line.startswith("  - code: "):
            code = line.split('"')[1]
        if line.strip() == "default: true":
            return code
    raise RehearsalFailed("the institution has no default group")


@contextmanager
def _world(work: Path) -> Iterator[tuple[SandboxServer, FakeGitHub]]:
    config = SandboxConfig(per_second_limit=10_000)
    with (
        SandboxServer(work / "sandbox", work / "repo" / "institutions", config, scale=0.01) as alma,
        FakeGitHub() as github,
    ):
        yield alma, github


def step(number: int, title: str) -> None:
    print(f"\n[{number}/{STEPS}] {title}", flush=True)


def say(text: str) -> None:
    print(f"      {text}", flush=True)


def check(condition: bool, failure: str) -> None:
    if not condition:
        raise RehearsalFailed(failure)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--artifacts",
        type=Path,
        default=ROOT / "artifacts" / "rehearsal",
        help="where to keep the plans, comments, reports and journals",
    )
    options = parser.parse_args(argv)
    artifacts: Path = options.artifacts.resolve()
    shutil.rmtree(artifacts, ignore_errors=True)
    artifacts.mkdir(parents=True)
    with tempfile.TemporaryDirectory(prefix="alma-groups-rehearsal-") as temporary:
        work = Path(temporary)
        _make_repository(work / "repo")
        try:
            with _world(work) as (alma, github):
                rehearsal = Rehearsal(work, artifacts, alma, github)
                _rehearse(rehearsal)
        except RehearsalFailed as failure:
            print(f"\nREHEARSAL FAILED: {failure}", file=sys.stderr)
            return 1
    print(f"\nRehearsal passed: all {STEPS} steps. Artifacts: {artifacts}")
    return 0


def _make_repository(repo: Path) -> None:
    (repo / "institutions").mkdir(parents=True)
    for slug in PICKED:
        shutil.copytree(FIXTURES / slug, repo / "institutions" / slug)
    shutil.copytree(ROOT / "schemas", repo / "schemas")


PR_RETIRE, PR_LATE, PR_EARLY = 1, 2, 3


def _rehearse(r: Rehearsal) -> None:
    retiring, adding, late = PICKED
    _main_branch(r)
    code = _pull_request(r, retiring, adding)
    _second_push(r, retiring)
    mappings = _mapping_rows(r, retiring, code)
    _merge_and_apply(r)
    _drift_clean(r)
    _staff_edit(r, retiring, code, mappings)
    _patron_load_drift(r, retiring, code)
    _stale_plan(r, late)
    r.keep("comments.json", json.dumps(r.github.state.comments_on(PR_RETIRE), indent=2))
    r.keep("issues.json", json.dumps(list(r.github.state.issues.values()), indent=2))
    _no_patron_ids_in_public_artifacts(r)
    for name in sorted(p.name for p in r.artifacts.iterdir()):
        say(f"artifact: {r.artifacts / name}")


def _main_branch(r: Rehearsal) -> None:
    step(1, "main: three institutions imported from Alma, with their patron-load history")
    r.git("init", "-q", "-b", "main")
    r.git("config", "user.name", "FLVC rehearsal")
    r.git("config", "user.email", "rehearsal@example.invalid")
    for slug in PICKED:
        r.tool("import", slug, "--write")
        files = sorted(str(p) for p in sftp_dir(r.sandbox.state_dir, slug).rglob("*.zip"))
        r.tool("patron-loads", "ingest", slug, *files)
    (r.repo / ".github").mkdir(exist_ok=True)  # a repository has it; --write needs the folder
    r.tool("codeowners", "--write", ".github/CODEOWNERS")
    r.git("add", "-A")
    r.git("commit", "-q", "-m", "institutions as imported")
    r.tool("plan", "--all", "--detailed-exitcode")  # exit 0: main matches Alma
    say(f"main at {r.git('rev-parse', '--short', 'HEAD')}: {', '.join(PICKED)}; plan is empty")


def _pull_request(r: Rehearsal, retiring: str, adding: str) -> str:
    step(2, f"pull request #{PR_RETIRE} changes {retiring} and {adding} → plan, sticky comment")
    r.git("checkout", "-q", "-b", "retire-unused")
    code = _retirable(r, retiring)
    r.retire(retiring, code, reason=f"Unused since the Aleph migration (ticket {retiring}-1).")
    r.add_group(adding, "VISIT", "Visiting scholar")
    say(f"{retiring}: retire group {code}; {adding}: add group VISIT")
    r.git("commit", "-q", "-am", f"Retire {code} in {retiring}; add VISIT in {adding}")
    plan_md = r.tool(
        "plan", "--changed-since", "main", "--format", "markdown", "--out", "plan.json"
    )
    check(retiring in plan_md and adding in plan_md, "the plan should cover both institutions")
    check(PICKED[2] not in plan_md, f"{PICKED[2]} did not change: it must not be planned")
    check("Approvals needed" in plan_md, "the comment should say whose approval is needed")
    r.keep("2-plan.md", plan_md)
    shutil.copy(r.repo / "plan.json", r.artifacts / "2-plan.json")
    posted = r.tool("comment", str(r.artifacts / "2-plan.md"), "--kind", "plan", PR_NUMBER="1")
    comments = r.github.state.comments_on(PR_RETIRE)
    check("1 created" in posted and len(comments) == 1, f"one comment expected: {posted}")
    say(f"comment #{comments[0]['id']} posted on pull request #{PR_RETIRE}")
    return code


def _second_push(r: Rehearsal, retiring: str) -> None:
    step(3, "a second push → the same comment is updated")
    before = [c["id"] for c in r.github.state.comments_on(PR_RETIRE)]
    path = r.groups_file(retiring)
    path.write_text(path.read_text().replace(f"(ticket {retiring}-1)", f"(ticket {retiring}-2)"))
    r.git("commit", "-q", "-am", "Name the confirming ticket")
    plan_md = r.tool(
        "plan", "--changed-since", "main", "--format", "markdown", "--out", "plan.json"
    )
    r.keep("3-plan.md", plan_md)
    shutil.copy(r.repo / "plan.json", r.artifacts / "3-plan.json")
    (r.repo / "plan.json").unlink()
    posted = r.tool("comment", str(r.artifacts / "3-plan.md"), "--kind", "plan", PR_NUMBER="1")
    after = [c["id"] for c in r.github.state.comments_on(PR_RETIRE)]
    check("1 updated" in posted and after == before, f"the comment should be updated: {posted}")
    say(f"comment #{after[0]} updated; still one comment")


def _merge_and_apply(r: Rehearsal) -> None:
    step(4, "merge → apply the reviewed plan, journal, report on the pull request")
    r.git("checkout", "-q", "main")
    r.git("merge", "-q", "--no-ff", "-m", f"Merge pull request #{PR_RETIRE}", "retire-unused")
    merge_sha = r.git("rev-parse", "HEAD")
    r.github.state.commit_pulls[merge_sha] = PR_RETIRE
    github = GitHubClient(token=TOKEN, repository=r.github.state.repository, api_url=r.github.url)
    check(github.pull_request_of_commit(merge_sha) == PR_RETIRE, "the merged PR not found")
    report = r.tool("apply", str(r.artifacts / "3-plan.json"), "--yes", "--format", "markdown")
    r.keep("4-apply.md", report)
    journals = sorted((r.repo / ".alma-groups" / "journal").glob("*.jsonl"))
    check(len(journals) == 2, f"one journal per institution expected, found {len(journals)}")
    for journal in journals:
        shutil.copy(journal, r.artifacts / journal.name)
    r.tool("comment", str(r.artifacts / "4-apply.md"), "--kind", "apply", PR_NUMBER="1")
    kinds = [c["body"].splitlines()[0] for c in r.github.state.comments_on(PR_RETIRE)]
    check(kinds == ["<!-- alma-groups:plan -->", "<!-- alma-groups:apply -->"], str(kinds))
    say(f"applied; journals {', '.join(j.name for j in journals)}; report posted")


def _drift_clean(r: Rehearsal) -> None:
    step(5, "nightly drift → nothing")
    r.keep("5-drift.md", r.tool("drift", "--all", "--format", "markdown", expect=0))
    r.tool("drift-issue", "--clean")
    check(not r.github.state.issues, "no drift issue should be opened")
    say("live Alma matches main; no drift issue")


def _staff_edit(r: Rehearsal, slug: str, code: str, mappings: list[dict[str, Any]]) -> None:
    step(6, f"staff re-enable {slug}'s retired group {code} in Alma → cause staff edit")
    _set_enabled(r, slug, code, enabled=True)
    _restore_mappings(r, slug, mappings)
    drift = r.tool("drift", "--all", "--format", "markdown", expect=2)
    r.keep("6-drift.md", drift)
    check("**staff edit**" in drift, "drift should blame a staff edit")
    r.tool("drift-issue", str(r.artifacts / "6-drift.md"))
    check(len(r.github.state.issues) == 1, "one drift issue should be open")
    say("drift: staff edit; drift issue #1 opened")


def _patron_load_drift(r: Rehearsal, slug: str, code: str) -> None:
    step(7, f"a patron load puts users back in {slug}'s retired group {code} → patron load")
    loaded = _patron_load(r, slug, code, users=2)
    drift = r.tool("drift", "-i", slug, "--format", "markdown", expect=2)
    r.keep("7-drift.md", drift)
    check("**patron load**" in drift, "drift should blame the patron load")
    r.tool("drift-issue", str(r.artifacts / "7-drift.md"))
    say(f"{loaded} users loaded into {code}; drift: patron load; drift issue #1 updated")
    r.git("checkout", "-q", "--", ".")


def _stale_plan(r: Rehearsal, slug: str) -> None:
    step(8, f"#{PR_LATE} merged after #{PR_EARLY} changed {slug} → apply refuses its plan")
    r.git("checkout", "-q", "-b", "add-in-late", "main")
    r.add_group(slug, "LATE", "Late proposal")
    r.git("commit", "-q", "-am", f"Add LATE in {slug}")
    r.plan_step()
    stale = r.artifacts / "8-plan-pr2.json"
    shutil.move(r.repo / "plan.json", stale)
    r.git("checkout", "-q", "-b", "rename-early", "main")
    path = r.groups_file(slug)
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    first = next(i for i, line in enumerate(lines) if line.startswith("    description: "))
    lines[first] = "    description: Renamed by pull request 3\n"
    path.write_text("".join(lines), encoding="utf-8")
    r.git("commit", "-q", "-am", f"Rename a group of {slug}")
    r.git("checkout", "-q", "main")
    r.git("merge", "-q", "--no-ff", "-m", f"Merge pull request #{PR_EARLY}", "rename-early")
    r.git("merge", "-q", "--no-ff", "-m", f"Merge pull request #{PR_LATE}", "add-in-late")
    refused = r.run("apply", str(stale), "--yes")
    r.keep("8-apply-refused.txt", refused.stderr)
    check(refused.returncode == 3, f"apply should refuse (exit 3): {refused.stderr}")
    say(f"refused: {refused.stderr.strip().splitlines()[-1]}")


def _no_patron_ids_in_public_artifacts(r: Rehearsal) -> None:
    """Comments, issues and reports hold counts only: no primary ID the journals hold."""
    ids: set[str] = set()
    for journal in r.artifacts.glob("*.jsonl"):
        for line in journal.read_text(encoding="utf-8").splitlines():
            user = json.loads(line).get("user")
            if isinstance(user, str):
                ids.add(user)
    check(bool(ids), "the journals should name the moved users")
    for public in (*r.artifacts.glob("*.md"), *r.artifacts.glob("*.json")):
        text = public.read_text(encoding="utf-8")
        leaked = sorted(i for i in ids if i in text)
        check(not leaked, f"{public.name} names {len(leaked)} patron(s)")
    say(f"no primary ID of the {len(ids)} journaled users in comments, issues or reports")


def _retirable(r: Rehearsal, slug: str) -> str:
    """A kept group that can be retired without breaking a safety rule, found by trying."""
    path = r.groups_file(slug)
    original = path.read_text()
    kept = original.split("retired:")[0]
    codes = [line.split('"')[1] for line in kept.splitlines() if line.startswith("  - code:")]
    default = _default_code(original.splitlines(keepends=True))
    for code in codes:
        if code == default:
            continue
        r.retire(slug, code, reason="Trial retirement while choosing a group.")
        try:
            verdict = r.run("plan", "-i", slug, "--format", "json")
        finally:
            path.write_text(original)
        if verdict.returncode == 0 and '"move_users"' in verdict.stdout:
            return code
    raise RehearsalFailed(f"{slug}: no group can be retired without a violation")


def _mapping_rows(r: Rehearsal, slug: str, code: str) -> list[dict[str, Any]]:
    """The record-type mapping rows of `code`, as staff would remember them."""
    with r.client(slug) as client:
        table = client.get_mapping_table(MAPPING_TABLE)
    return [dict(row) for row in table.get("row", []) if code in row.values()]


def _restore_mappings(r: Rehearsal, slug: str, rows: list[dict[str, Any]]) -> None:
    """Staff put the mapping rows back by hand, as they were before the apply."""
    with r.client(slug) as client:
        table = client.get_mapping_table(MAPPING_TABLE)
        table["row"] = [*table.get("row", []), *rows]  # type: ignore[list-item]
        client.put_mapping_table(MAPPING_TABLE, table)


def _set_enabled(r: Rehearsal, slug: str, code: str, *, enabled: bool) -> None:
    """What a staff member does in Alma's UI: edit the UserGroups code table."""
    with r.client(slug) as client:
        table = client.get_code_table("UserGroups")
        table["row"] = [
            {**row, "enabled": enabled} if row.get("code") == code else row
            for row in table.get("row", [])
        ]
        client.put_code_table("UserGroups", table)


def _patron_load(r: Rehearsal, slug: str, code: str, *, users: int) -> int:
    """An SIS load that assigns `code` again: the users change in Alma, the file is ingested."""
    moved = 0
    with r.client(slug) as client:
        for user in client.iter_users(max_records=50):
            if moved == users:
                break
            primary_id = user.get("primary_id", "")
            record = client.get_user(primary_id)
            if (record.get("user_group") or {}).get("value") == code:
                continue
            body = {k: v for k, v in record.items() if k != "user_role"}
            body["user_group"] = {"value": code}
            client.update_user(primary_id, body)  # type: ignore[arg-type]
            moved += 1
    today = datetime.now(UTC).date()
    load = sftp_dir(r.sandbox.state_dir, slug) / f"patrons_{today:%Y%m%d}_extra.xml.zip"
    load.write_bytes(_load_zip(code, moved))
    r.tool("patron-loads", "ingest", slug, str(load))
    return moved


def _load_zip(code: str, users: int) -> bytes:
    """A patron-load zip in Alma's user schema; synthetic ids, no personal data."""
    records = "".join(
        f"<user><record_type>PUBLIC</record_type><primary_id>rehearsal-{n}</primary_id>"
        f"<user_group>{code}</user_group><status>ACTIVE</status></user>"
        for n in range(users)
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("users.xml", f"<users>{records}</users>")
    return buffer.getvalue()


if __name__ == "__main__":
    sys.exit(main())
