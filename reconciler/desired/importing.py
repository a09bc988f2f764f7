"""Write user-groups.yaml from live Alma (like octodns-dump): the first step of managing an
institution, and the way back to a clean slate.

Enabled rows become kept groups; disabled rows become retired entries, because they are
already out of service and the file must list every live group (no implicit removal).
`in_patron_loads` is never written: a code-table row does not say whether staff assign the
group by hand, and absence from past loads cannot prove it, so only a person adds it. The
YAML is written by hand rather than by yaml.dump so that every code is quoted, the modeline
comes first, and the result reads like the files people write. Pure: live rows in, text out.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from reconciler.model.live import LiveGroup

MODELINE = "# yaml-language-server: $schema=../../schemas/user-groups.schema.json"
DISABLED_REASON = "Disabled in Alma before alma-groups managed this institution."


def _quoted(text: str) -> str:
    # JSON strings are valid YAML double-quoted scalars, escapes included
    return json.dumps(" ".join(text.split()), ensure_ascii=False)


def render_user_groups(rows: Sequence[LiveGroup], *, source: str) -> str:
    """user-groups.yaml text listing every live row, in the code table's order."""
    lines = [
        MODELINE,
        f"# Imported from {source} by `alma-groups import`; edit freely.",
        "groups:",
    ]
    for row in (r for r in rows if r.enabled):
        lines.append(f"  - code: {_quoted(row.code)}")
        lines.append(f"    description: {_quoted(row.description or row.code)}")
        if row.default:
            lines.append("    default: true")
    disabled = [r for r in rows if not r.enabled]
    if disabled:
        lines.append("retired:")
        for row in disabled:
            lines.append(f"  - code: {_quoted(row.code)}")
            lines.append(f"    description: {_quoted(row.description or row.code)}")
            lines.append(f"    reason: {_quoted(DISABLED_REASON)}")
    else:
        lines.append("retired: []")
    return "\n".join(lines) + "\n"
