"""Terminal text: what a person at a shell reads."""

from __future__ import annotations

from reconciler.desired.loading import ValidationReport


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def render_validation(report: ValidationReport) -> str:
    """Every problem on its own `file:line:col: key: message` line, then one summary line."""
    checked = (
        f"{_plural(len(report.institutions_checked), 'institution')}, "
        f"{_plural(report.files_checked, 'file')}"
    )
    if report.ok:
        return f"ok: {checked} valid\n"
    lines = [str(problem) for problem in report.problems]
    files = len({problem.file for problem in report.problems})
    lines.append(
        f"{_plural(len(report.problems), 'problem')} in {_plural(files, 'file')} "
        f"({checked} checked)"
    )
    return "\n".join(lines) + "\n"
