"""The consortium at a glance: where FLVC's cleanup stands, one line per institution.

FLVC runs the cleanup as one project across 40 institutions; this is the first section of
every survey format, so nobody has to open 40 sections to see the state of play:

- per institution: groups, users, strong and weak candidates, retirements done (retired in the
  YAML and disabled and empty in Alma, or deleted) and retirements pending (retired in the
  YAML, still enabled or still holding users in Alma);
- a matrix of FLVC's commonly unused groups against the institutions. An institution may hold
  several groups for one entry (separate "Missing" and "Lost" groups): the cell shows the one
  furthest from done, because that is what is left to do: present (with its users) before
  retired in the YAML before disabled in Alma before absent. A group deleted from Alma after
  its retirement reads "retired in the YAML".

Pure: a `Survey` in, counts out.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from reconciler.survey.commonly_unused import COMMONLY_UNUSED, UnusedGroup
from reconciler.survey.report import GroupStatus, InstitutionSurvey, Survey, SurveyRow, Tier


class ListState(StrEnum):
    """Where one of FLVC's commonly unused groups stands at one institution."""

    PRESENT = "present"  # in Alma, enabled, not retired in the YAML
    RETIRED = "retired"  # retired in the YAML; Alma's row still enabled, or deleted already
    DISABLED = "disabled"  # disabled in Alma
    ABSENT = "absent"  # the institution has no such group


# the order a cell picks from when several groups match one entry: what is left to do first
PRECEDENCE = (ListState.PRESENT, ListState.RETIRED, ListState.DISABLED, ListState.ABSENT)


@dataclass(frozen=True)
class ListCell:
    """One entry of FLVC's list at one institution: its state, and the users of those groups."""

    state: ListState
    users: int = 0
    codes: tuple[str, ...] = ()

    def text(self) -> str:
        """Short words for a table cell: "—", "1,204 users", "retired", "disabled"."""
        if self.state is ListState.PRESENT:
            return f"{self.users:,} user" + ("" if self.users == 1 else "s")
        if self.state is ListState.ABSENT:
            return "—"
        return "retired in YAML" if self.state is ListState.RETIRED else "disabled"


@dataclass(frozen=True)
class InstitutionOverview:
    """One institution's line of the overview."""

    slug: str
    name: str
    groups: int
    users: int
    strong: int
    weak: int
    retired_done: int
    retired_pending: int
    deleted: int  # of the retirements done, the rows no longer in Alma
    flvc_list: tuple[ListCell, ...]  # one per entry of COMMONLY_UNUSED, in its order


@dataclass(frozen=True)
class Overview:
    """Every institution's line, and the consortium's totals."""

    institutions: tuple[InstitutionOverview, ...]
    entries: tuple[UnusedGroup, ...] = COMMONLY_UNUSED

    def total(self, field: str) -> int:
        return sum(int(getattr(line, field)) for line in self.institutions)

    def entry_counts(self, index: int) -> dict[ListState, int]:
        """How many institutions are in each state for one entry of FLVC's list."""
        counts = dict.fromkeys(PRECEDENCE, 0)
        for line in self.institutions:
            counts[line.flvc_list[index].state] += 1
        return counts


TOTAL_FIELDS = ("groups", "users", "strong", "weak", "retired_done", "retired_pending")


def _row_state(row: SurveyRow) -> ListState:
    if not row.enabled:
        return ListState.DISABLED
    return ListState.RETIRED if row.status is GroupStatus.RETIRED else ListState.PRESENT


def _cell(institution: InstitutionSurvey, entry: UnusedGroup) -> ListCell:
    found = [(_row_state(r), r) for r in institution.rows if r.flvc_list == entry.name]
    states = [state for state, _ in found]
    if any(entry.names(code, description) for code, description in institution.retired_gone):
        states.append(ListState.RETIRED)
    state = min(states, key=PRECEDENCE.index, default=ListState.ABSENT)
    matching = [row for row_state, row in found if row_state is state]
    return ListCell(state, sum(row.users for row in matching), tuple(r.code for r in matching))


def institution_overview(institution: InstitutionSurvey) -> InstitutionOverview:
    retired = [row for row in institution.rows if row.status is GroupStatus.RETIRED]
    done = sum(1 for row in retired if row.retirement_done) + len(institution.retired_gone)
    return InstitutionOverview(
        slug=institution.slug,
        name=institution.name,
        groups=len(institution.rows),
        users=institution.total_users,
        strong=len(institution.tiered(Tier.STRONG)),
        weak=len(institution.tiered(Tier.WEAK)),
        retired_done=done,
        retired_pending=len(retired) - sum(1 for row in retired if row.retirement_done),
        deleted=len(institution.retired_gone),
        flvc_list=tuple(_cell(institution, entry) for entry in COMMONLY_UNUSED),
    )


def overview(survey: Survey) -> Overview:
    """The overview of every institution surveyed, in the survey's order."""
    return Overview(tuple(institution_overview(i) for i in survey.institutions))
