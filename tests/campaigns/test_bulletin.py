"""Problems overdue at the end of a month in that month's bulletin (组织生活月通报): counted per
unit and listed under it, on the responsible organization's line, in the city totals and the
bulletin ledger; an accepted problem is not; the counts are the selectors'; and neither the
build nor the page costs a query more for more problems.

May 2026, built on 1 June: A-1's problem (due 20 May, sent back) and the problem of A-1's group
(due 31 May, on its branch's line) are overdue; A-2's (due 10 May) was accepted on 25 May and
A-2's other (due 10 June) is not due yet; B-1's (due 15 May) is overdue, and so is B's
committee's (a committee owes no activity: its line is there for its problem).
"""

from __future__ import annotations

import datetime
import io

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from branches.models import Organization, OrganizationKind
from branches.periods import Period
from campaigns import selectors, services
from campaigns.models import Campaign, CampaignKind, InspectionGroup, Problem, ProblemEvent
from campaigns.models import ProblemState as P
from reports.ledgers import REGISTRY, write_xlsx
from reports.models import Bulletin
from reports.services import build_bulletin
from tests.conftest import add_joint_committee, add_record

# The standing cast, built once for the module (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("module_cast")

D = datetime.date
MAY = Period.month(2026, 5)
JUNE_1 = D(2026, 6, 1)
ENGLISH = {"language": "en"}


def shanghai(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return datetime.datetime(
        day.year, day.month, day.day, hour, tzinfo=datetime.timezone(datetime.timedelta(hours=8))
    )


def problem(organization, deadline, state=P.OPEN, group=None, **fields) -> Problem:
    fields.setdefault("description", f"{organization.code}：三会一课记录不全")
    return Problem.objects.create(
        organization=organization,
        group=group,
        category="组织生活",
        found_on=D(2026, 4, 1),
        deadline=deadline,
        state=state,
        **fields,
    )


def accepted_on(item: Problem, day: datetime.date) -> None:
    """Accepted at 10:00 that day (Shanghai), as the service records it."""
    item.state = P.ACCEPTED
    item.save(update_fields=["state"])
    event = ProblemEvent.objects.create(problem=item, from_state=P.SUBMITTED, to_state=P.ACCEPTED)
    ProblemEvent.objects.filter(pk=event.pk).update(at=shanghai(day))


@pytest.fixture
def may(tree, activity_types):
    """The problems of May (see the module's docstring), A-1's found by an inspection group."""
    for branch in (tree.branch_a, tree.branch_a2, tree.branch_b):
        add_record(branch, activity_types["theme_day"], D(2026, 5, 8))
    campaign = Campaign.objects.create(
        name="2026年基层党建专项检查",
        kind=CampaignKind.INSPECTION,
        starts_on=D(2026, 1, 1),
        ends_on=D(2026, 12, 31),
    )
    group = InspectionGroup.objects.create(campaign=campaign, name="第一督导组")
    made = {
        "a1": problem(tree.branch_a, D(2026, 5, 20), P.SENT_BACK, group),
        "group_a": problem(tree.group_a, D(2026, 5, 31), description="党小组会不规范"),
        "a2_done": problem(tree.branch_a2, D(2026, 5, 10), P.SUBMITTED),
        "a2_later": problem(tree.branch_a2, D(2026, 6, 10)),
        "b1": problem(tree.branch_b, D(2026, 5, 15), P.SUBMITTED, severity="serious"),
        "committee_b": problem(tree.committee_b, D(2026, 5, 12), P.RECTIFYING),
    }
    accepted_on(made["a2_done"], D(2026, 5, 25))
    return made


def build(today=JUNE_1) -> Bulletin:
    return build_bulletin(MAY, today=today)


def listed(bulletin) -> dict[str, list[str]]:
    """Unit name -> the descriptions listed under it."""
    return {
        row.unit_name: [p["description"] for p in row.overdue_problems]
        for row in bulletin.unit_rows.all()
    }


def test_a_problem_overdue_at_month_end_is_listed_under_its_unit(may, tree):
    bulletin = build()
    assert listed(bulletin) == {
        "市统计局": ["A-1：三会一课记录不全", "党小组会不规范"],  # by deadline
        "市水务局": ["B：三会一课记录不全", "B-1：三会一课记录不全"],
    }
    counts = {row.unit_name: row.overdue_problem_count for row in bulletin.unit_rows.all()}
    assert counts == {"市统计局": 2, "市水务局": 2}
    assert bulletin.overdue_problem_count == 4
    first = bulletin.unit_rows.get(unit_name="市统计局").overdue_problems[0]
    assert first == {
        "organization_name": "统计局第一党支部",
        "organization_code": "A-1",
        "category": "组织生活",
        "description": "A-1：三会一课记录不全",
        "severity": "normal",
        "deadline": "2026-05-20",
        "campaign": "2026年基层党建专项检查",
        "group": "第一督导组",
    }


def test_an_accepted_problem_is_not_and_one_not_yet_due_neither(may):
    everything = [d for names in listed(build()).values() for d in names]
    assert "A-2：三会一课记录不全" not in everything  # accepted on 25 May, or due in June
    rows = {r.organization_code: r for r in Bulletin.objects.get().rows.all()}
    assert rows["A-2"].overdue_problem_count == 0 and rows["A-2"].overdue_problem_detail == ""


def test_each_line_holds_its_organizations_problems(may):
    rows = {r.organization_code: r for r in build().rows.all()}
    # The group's problem is on its branch's line, as its meetings are.
    assert rows["A-1"].overdue_problem_count == 2
    assert rows["A-1"].overdue_problem_detail == (
        "A-1：三会一课记录不全（2026-05-20）；党小组会不规范（2026-05-31）"
    )
    assert "A-1-1" not in rows
    # A committee owes nothing: its line is there for its problem, neither compliant nor not.
    committee = rows["B"]
    assert (committee.owed, committee.missing, committee.overdue_problem_count) == (0, 0, 1)
    bulletin = Bulletin.objects.get()
    assert bulletin.organization_count == 3  # lines that owed: as before


def test_the_counts_are_the_selectors(may, users, tree):
    """Built on 1 June, the bulletin counts what the selectors count as overdue that day, and
    lists the problems the daily task marks overdue."""
    bulletin = build()
    staff, inspector = users["staff"], users["inspector_a"]
    assert bulletin.overdue_problem_count == selectors.problem_counts(staff, JUNE_1)["overdue"]
    unit_a = bulletin.unit_rows.get(unit=tree.unit_a)
    assert unit_a.overdue_problem_count == selectors.problem_counts(inspector, JUNE_1)["overdue"]
    services.mark_overdue(today=JUNE_1)
    marked = {p.description for p in selectors.overdue_problems(staff)}
    assert marked == {d for names in listed(bulletin).values() for d in names}
    in_scope = [p.description for p in selectors.overdue_problems(inspector)]
    assert in_scope == [p["description"] for p in unit_a.overdue_problems]


def test_accepted_after_the_month_it_still_was_overdue_at_its_end(may):
    accepted_on(may["b1"], D(2026, 6, 3))
    # Rebuilt later, May's bulletin says what the end of May saw.
    bulletin = build(today=D(2026, 6, 30))
    assert "B-1：三会一课记录不全" in listed(bulletin)["市水务局"]
    assert bulletin.overdue_problem_count == 4
    # June's does not list it any more; A-2's, due on 10 June, is June's.
    june = build_bulletin(Period.month(2026, 6), today=D(2026, 7, 1))
    june_listed = {d for names in listed(june).values() for d in names}
    assert "B-1：三会一课记录不全" not in june_listed
    assert "A-2：三会一课记录不全" in june_listed


def test_a_joint_committees_problem_is_under_each_of_its_units(may, tree, activity_types):
    unit_c, branch_c = add_joint_committee(tree)
    add_record(branch_c, activity_types["theme_day"], D(2026, 5, 9))
    problem(tree.committee_a, D(2026, 5, 5), description="联合党委会议记录不全")
    found = listed(build())
    assert "联合党委会议记录不全" in found["市统计局"]
    assert found[unit_c.name] == ["联合党委会议记录不全"]
    assert Bulletin.objects.get().overdue_problem_count == 5  # once in the city's count


# --- the page and the ledger -----------------------------------------------------------------


def page(client_for, role):
    return client_for(role).get(reverse("portal:bulletin", args=["2026-05"]), **ENGLISH)


def section(html: str, start: str, end: str) -> str:
    return html[html.index(start) : html.index(end)]


def test_the_page_lists_them_under_each_unit_of_the_scope(may, client_for):
    build()
    html = page(client_for, "staff").content.decode()
    problems = section(html, 'id="overdue-problems"', 'id="missed"')
    # Each unit's block, in the ranking's order (the water bureau is first this month).
    blocks = dict(block.split('"', 1) for block in problems.split('data-unit="')[1:])
    assert list(blocks) == ["市水务局", "市统计局"]
    assert "A-1：三会一课记录不全" in blocks["市统计局"] and "党小组会不规范" in blocks["市统计局"]
    assert "A-1：" not in blocks["市水务局"]
    assert "B-1：三会一课记录不全" in blocks["市水务局"] and "Serious" in blocks["市水务局"]
    assert "2026年基层党建专项检查 第一督导组" in blocks["市统计局"]
    ranking = section(html, 'id="ranking"', 'id="overdue-problems"')
    assert '<th scope="col" class="num">Overdue problems</th>' in ranking
    inspector = page(client_for, "inspector_a").content.decode()
    assert "A-1：三会一课记录不全" in inspector and "B-1：三会一课记录不全" not in inspector
    secretary = page(client_for, "secretary_a").content.decode()
    own = section(secretary, 'id="own"', 'id="overdue"')
    assert "A-1：三会一课记录不全（2026-05-20）" in own
    assert 'id="overdue-problems"' not in secretary and "B-1：" not in secretary


def test_the_bulletin_ledger_has_the_lines_problems(may, staff):
    build()
    ledger = REGISTRY["bulletin"](staff, {"period": MAY})
    out = io.BytesIO()
    with translation.override("en"):  # the headers as written in the source
        write_xlsx(ledger, out)
    ws = openpyxl.load_workbook(io.BytesIO(out.getvalue())).active
    header = [c.value for c in ws[4]]
    rows = {r[2]: r for r in ws.iter_rows(min_row=5, values_only=True)}
    count = header.index("Problems overdue at month end")
    detail = header.index("Overdue problems (what)")
    assert rows["A-1"][count] == 2 and "党小组会不规范（2026-05-31）" in rows["A-1"][detail]
    assert rows["B"][count] == 1 and rows["B"][header.index("Compliant")] is None
    assert rows["A-2"][count] == 0


# --- queries -----------------------------------------------------------------------------------


def _many_problems(tree, n: int) -> None:
    """n more overdue problems of new branches, in both units, and of a group."""
    branches = [
        Organization.objects.create(
            code=f"X-{i}",
            name=f"支部{i}",
            kind=OrganizationKind.BRANCH,
            unit=tree.unit_a if i % 2 else tree.unit_b,
            parent=tree.committee_a if i % 2 else tree.committee_b,
        )
        for i in range(n)
    ]
    Problem.objects.bulk_create(
        Problem(
            organization=b,
            category="组织生活",
            description=f"问题{i}",
            found_on=D(2026, 4, 1),
            deadline=D(2026, 5, 1),
        )
        for i, b in enumerate([*branches, *[tree.group_a] * n])
    )


def test_the_build_costs_the_same_queries_however_many_problems(may, tree):
    def queries_to_build() -> int:
        with CaptureQueriesContext(connection) as ctx:
            build()
        return len(ctx.captured_queries)

    build()  # the first build inserts, later ones update: compare like with like
    few = queries_to_build()
    _many_problems(tree, 30)
    assert queries_to_build() == few
    assert Bulletin.objects.get().overdue_problem_count == 4 + 60


@pytest.mark.parametrize(
    ("role", "queries"),
    # As tests/reports/test_bulletin_pages.py counts them: the problems cost none more.
    [("staff", 5), ("inspector_a", 6), ("secretary_a", 5)],
)
def test_the_page_costs_the_same_queries_however_many_problems(
    may, tree, client_for, role, queries
):
    client = client_for(role)
    url = reverse("portal:bulletin", args=["2026-05"])
    build()
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    _many_problems(tree, 30)
    build()
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    shown = sum(len(row.overdue_problems) for row in response.context["unit_rows"])
    if role != "secretary_a":
        assert shown >= 30
    assert len(few.captured_queries) == len(many.captured_queries) == queries
