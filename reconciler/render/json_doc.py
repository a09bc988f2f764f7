"""JSON documents for machines (CI steps, editors, other tools); stable keys, sorted output."""

from __future__ import annotations

import json
from dataclasses import asdict

from reconciler.desired.loading import ValidationReport
from reconciler.model.plan import Plan
from reconciler.planning import plan_file

VALIDATION_FORMAT_VERSION = 1


def render_validation(report: ValidationReport) -> str:
    document = {
        "format_version": VALIDATION_FORMAT_VERSION,
        "ok": report.ok,
        "institutions_checked": list(report.institutions_checked),
        "files_checked": report.files_checked,
        "problems": [asdict(problem) for problem in report.problems],
    }
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def render_plan(plan: Plan) -> str:
    """The saved-plan document (schemas/plan.schema.json), checksum included."""
    return plan_file.render(plan)
