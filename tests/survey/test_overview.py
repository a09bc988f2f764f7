"""The consortium overview: counts per institution and FLVC's list as a matrix of states."""

from __future__ import annotations

from types import MappingProxyType

from reconciler.model import DesiredState, InstitutionState, KeptGroup, RetiredGroup, UserGroups
from reconciler.model.live import GroupCensus, LiveGroup, LiveState
from reconciler.survey.overview import ListState, Overview, overview
from reconciler.survey.report import build_survey

from .builders import INSTITUTION, TODAY, users


def retired(code: str, description: str) -> RetiredGroup:
    return RetiredGroup(code, description, "Unused since the Aleph migration.", "01")


def surveyed(
    kept: list[KeptGroup], gone: list[RetiredGroup], rows: list[LiveGroup], **counts: int
) -> Overview:
    """One institution's overview line from its YAML lists and live rows with user counts."""
    state = InstitutionState(INSTITUTION, UserGroups(tuple(kept), tuple(gone)))
    census = {row.code: users(counts.get(row.code, 0)) for row in rows}
    live = LiveState(
        slug="demo",
        groups=tuple(rows),
        census=MappingProxyType({c: GroupCensus(c, b, f"fp-{c}") for c, b in census.items()}),
        estimated_counts=MappingProxyType({c: b.total for c, b in census.items()}),
        total_users=sum(b.total for b in census.values()),
        references=(),
    )
    survey = build_survey(DesiredState((state,)), {"demo": live}, {"demo": None}, today=TODAY)
    return overview(survey)


def test_retirements_done_pending_and_deleted_are_counted() -> None:
    """Disabled and empty is done, deleted is done, enabled or with users is pending."""
    view = surveyed(
        [KeptGroup("01", "Undergraduate", default=True)],
        [
            retired("15", "Autologin"),  # disabled and empty: done
            retired("99", "Mango"),  # deleted from Alma: done
            retired("69", "UBorrow partner"),  # still enabled: pending
            retired("OLD", "Old group"),  # disabled but still has users: pending
        ],
        [
            LiveGroup("01", "Undergraduate", True, True),
            LiveGroup("15", "Autologin", enabled=False),
            LiveGroup("69", "UBorrow partner"),
            LiveGroup("OLD", "Old group", enabled=False),
        ],
        **{"01": 50, "69": 3, "OLD": 2},
    )
    [line] = view.institutions
    assert (line.retired_done, line.retired_pending, line.deleted) == (2, 2, 1)
    assert (line.groups, line.users, line.strong, line.weak) == (4, 55, 0, 0)
    cells = dict(zip((e.name for e in view.entries), line.flvc_list, strict=True))
    assert cells["15 Autologin"].state is ListState.DISABLED
    assert cells["99 Mango"].state is ListState.RETIRED  # deleted after its retirement
    assert cells["69 UBorrow partner"].state is ListState.RETIRED
    assert cells["Reserves"].state is ListState.ABSENT
    assert cells["Reserves"].text() == "—"


def test_a_cell_shows_the_matching_group_furthest_from_done() -> None:
    """Missing disabled and Lost in use: the cell says Lost's users; present beats the rest."""
    view = surveyed(
        [KeptGroup("01", "Undergraduate", default=True), KeptGroup("LOST", "Lost")],
        [],
        [
            LiveGroup("01", "Undergraduate", True, True),
            LiveGroup("MISSING", "Missing", enabled=False),
            LiveGroup("LOST", "Lost"),
            LiveGroup("RES", "Course reserves"),
        ],
        **{"01": 10, "LOST": 4, "MISSING": 1, "RES": 1},
    )
    [line] = view.institutions
    cells = dict(zip((e.name for e in view.entries), line.flvc_list, strict=True))
    lost = cells["Missing and Lost"]
    assert (lost.state, lost.users, lost.codes) == (ListState.PRESENT, 4, ("LOST",))
    assert lost.text() == "4 users"
    assert cells["Reserves"].text() == "1 user"  # unmanaged, but present in Alma
    assert view.entry_counts(2)[ListState.PRESENT] == 1
    assert line.strong == 3  # LOST, MISSING and RES are on FLVC's list
