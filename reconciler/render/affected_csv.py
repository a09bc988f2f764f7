"""CSV of the users a plan moves or purges, for the apply operator's own checks.

This is the one output that names people (by primary ID), so it is written only when asked
for, to a local file, and never printed or attached to a pull request.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from reconciler.reading.census import AffectedUser

HEADER = ("institution", "group", "action", "target", "primary_id")


def render_affected_users(users: Sequence[AffectedUser]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADER)
    for user in users:
        writer.writerow((user.slug, user.group, user.action, user.target or "", user.primary_id))
    return buffer.getvalue()
