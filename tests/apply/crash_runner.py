"""Run one apply in its own process, for the kill -9 tests:
`python crash_runner.py URL KEY DIR [--bulk]`.

Retires STAFF into 01 for the applytest fixture against the sandbox at URL, saves the plan to
DIR/plan.json, then applies it with its journal in DIR. The test kills this process mid-run.
With --bulk the institution has the demo fixture's job template and a bulk threshold of 10, so
the bulk job moves STAFF (polled quickly).
"""

from __future__ import annotations

import sys
from dataclasses import replace
from datetime import date
from pathlib import Path

from reconciler.alma import AlmaClient, TokenBucket
from reconciler.apply.bulk_move import PollPolicy
from reconciler.apply.engine import ApplySettings, apply_institution
from reconciler.apply.journal import Journal, JournalHeader, new_run_id
from reconciler.desired import load_desired_state
from reconciler.model import KeptGroup, RetiredGroup, UserGroups
from reconciler.model.plan import Plan
from reconciler.planning import plan_file
from reconciler.planning.plan import plan_institution
from reconciler.reading.live import ReadOptions, read_groups, read_live

FIXTURES = Path(__file__).parent / "fixtures" / "institutions"
DEMO = Path(__file__).resolve().parents[1] / "fixtures" / "valid" / "institutions"
QUICK_POLLS = PollPolicy(first_delay_s=0.02, factor=2.0, max_delay_s=0.2, timeout_s=60)


def main(url: str, key: str, folder: Path, *, bulk: bool) -> None:
    base = load_desired_state(FIXTURES).institutions[0]
    if bulk:
        demo = load_desired_state(DEMO).get("demo")
        assert demo is not None
        institution = replace(base.institution, bulk_threshold=10)
        base = replace(base, institution=institution, update_users_job=demo.update_users_job)
    env = {"ALMA_API_URL": url, base.institution.api_key_env: key}
    with AlmaClient.for_institution(base.institution, env, limiter=TokenBucket(40)) as client:
        kept = tuple(
            KeptGroup(r.code, r.description, r.default)
            for r in read_groups(client)
            if r.code != "STAFF"
        )
        retired = (RetiredGroup("STAFF", "Library staff", "test", move_users_to="01"),)
        state = replace(base, user_groups=UserGroups(kept, retired))
        today = date.today()
        plan = plan_institution(
            state, read_live(client, state, ReadOptions(today)), None, today=today
        )
        plan_file.save(Plan((plan,), None, "sha256:crash"), folder / "plan.json")
        header = JournalHeader(new_run_id(), plan.slug, "sha256:crash", None, "test")
        journal = Journal.create(folder, header)
        apply_institution(client, state, plan, journal, ApplySettings(today, poll=QUICK_POLLS))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], Path(sys.argv[3]), bulk="--bulk" in sys.argv[4:])
