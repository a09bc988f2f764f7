"""Apply journals reduced to what drift weighs: when, finished or not, which groups."""

from __future__ import annotations

from pathlib import Path

from reconciler.apply.journal import Journal, JournalHeader
from reconciler.runs.drift import applied_run, applied_runs


def _journal(directory: Path, run_id: str, *, finish: bool, fail: bool = False) -> Journal:
    header = JournalHeader(run_id, "ucf", "sha256:x", None, "0.1.0")
    journal = Journal.create(directory, header)
    journal.intent("move:1", "move", user="canary-1", group_before="15", group_after="GUEST")
    journal.outcome("move:1", "move", "failed" if fail else "done")
    journal.intent("table:1", "group_rows", table="UserGroups", actions={"disable_group": ["15"]})
    journal.outcome("table:1", "group_rows", "done")
    if finish:
        journal.note("end", stopped=False)
    return journal


def test_a_finished_run_names_its_groups_and_end(tmp_path: Path) -> None:
    """A run that reached its end: finished time set, groups from moves and table rows."""
    run = applied_run(_journal(tmp_path, "20261130T100000Z-aaaaaa", finish=True).path)
    assert run.slug == "ucf"
    assert run.finished_at is not None
    assert run.codes == frozenset({"15"})
    assert run.failed_codes == frozenset()


def test_a_crashed_run_has_no_end_and_failures_are_kept(tmp_path: Path) -> None:
    """No end note: not finished; a failed move marks its group."""
    run = applied_run(_journal(tmp_path, "20261130T100000Z-bbbbbb", finish=False, fail=True).path)
    assert run.finished_at is None
    assert run.failed_codes == frozenset({"15"})


def test_only_the_institutions_journals_are_read(tmp_path: Path) -> None:
    """Journals of other institutions, and a missing folder, give nothing."""
    _journal(tmp_path, "20261130T100000Z-cccccc", finish=True)
    assert [r.run_id for r in applied_runs(tmp_path, "ucf")] == ["20261130T100000Z-cccccc"]
    assert applied_runs(tmp_path, "fiu") == []
    assert applied_runs(tmp_path / "missing", "ucf") == []
