"""Drift as JSON: a list of institutions, each with its differences, causes and evidence."""

from __future__ import annotations

import json
from collections.abc import Sequence

from reconciler.planning.drift import InstitutionDrift

DRIFT_FORMAT_VERSION = 1


def render_drift_json(report: Sequence[InstitutionDrift]) -> str:
    document = {
        "format_version": DRIFT_FORMAT_VERSION,
        "drifted": [i.slug for i in report if i.drifted],
        "institutions": [
            {
                "slug": i.slug,
                "differences": [
                    {
                        "code": item.code,
                        "difference": item.difference,
                        "cause": str(item.cause),
                        "evidence": item.evidence,
                    }
                    for item in i.items
                ],
            }
            for i in report
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
