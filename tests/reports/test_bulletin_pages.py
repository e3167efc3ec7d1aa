"""The bulletin pages (portal): months, totals, the unit ranking and who missed what, cut to
each role's scope, shown as built, at a fixed number of queries.

October 2026 (built on 27 November): every branch owes a theme day (主题党日), group_a its
group meeting (党小组会). branch_a held its theme day but group_a missed its meeting, so
branch_a missed 党小组会×1; branch_a2 and branch_b held theirs. branch_b's election was due
on 2025-01-10. unit_b is therefore ranked first (1 of 1 compliant), unit_a second (1 of 2).
"""

from __future__ import annotations

import datetime
import io

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Role, User
from branches.models import ComplianceRule, Organization, OrganizationKind, Term
from branches.periods import Period
from reports.services import build_bulletin
from tests.conftest import Client, add_record

# The standing cast, built once for the module (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("module_cast")

D = datetime.date
ENGLISH = {"language": "en"}  # chosen with the language switch
OCTOBER = Period.month(2026, 10)


@pytest.fixture
def october(tree, activity_types):
    t = activity_types
    add_record(tree.branch_a, t["theme_day"], D(2026, 10, 10))
    add_record(tree.branch_a2, t["theme_day"], D(2026, 10, 12))
    add_record(tree.branch_b, t["theme_day"], D(2026, 10, 15))
    Term.objects.create(organization=tree.branch_b, started_on=D(2022, 1, 10))  # due 2025-01-10
    return build_bulletin(OCTOBER, today=D(2026, 11, 27))


def page(client_for, role, month="2026-10"):
    return client_for(role).get(reverse("portal:bulletin", args=[month]), **ENGLISH)


def shown(response) -> dict:
    """What the page shows, by section, as codes / unit names."""
    ctx = response.context
    return {
        "units": [(row.rank, row.unit_name) for row in ctx["unit_rows"]],
        "missed": [row.organization_code for row in ctx["missed"]],
        "overdue": [row.organization_code for row in ctx["overdue"]],
        "own": [row.organization_code for row in ctx["own_rows"]],
    }


# --- the list of months -----------------------------------------------------------------------


def test_the_list_shows_each_month_with_its_city_figures(october, client_for):
    build_bulletin(Period.month(2026, 9), today=D(2026, 11, 27))
    response = client_for("inspector_a").get(reverse("portal:bulletins"), **ENGLISH)
    assert [b.code for b in response.context["bulletins"]] == ["2026-10", "2026-09"]
    html = response.content.decode()
    assert f'href="{reverse("portal:bulletin", args=["2026-10"])}"' in html
    assert "66.7%" in html  # October: 2 of 3 owing organizations compliant


def test_the_list_costs_one_query_however_many_months(tree, client_for, django_assert_num_queries):
    client = client_for("staff")
    build_bulletin(Period.month(2026, 1))
    # Session, user, the bulletins.
    with django_assert_num_queries(3):
        client.get(reverse("portal:bulletins"))
    for month in range(2, 12):
        build_bulletin(Period.month(2026, month))
    with django_assert_num_queries(3):
        response = client.get(reverse("portal:bulletins"))
    assert len(response.context["bulletins"]) == 11


# --- one month, per role ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (
            "staff",
            {
                "units": [(1, "市水务局"), (2, "市统计局")],
                "missed": ["A-1"],
                "overdue": ["B-1"],
                "own": [],
            },
        ),
        (
            "inspector_city",
            {
                "units": [(1, "市水务局"), (2, "市统计局")],
                "missed": ["A-1"],
                "overdue": ["B-1"],
                "own": [],
            },
        ),
        ("inspector_a", {"units": [(2, "市统计局")], "missed": ["A-1"], "overdue": [], "own": []}),
        ("secretary_a", {"units": [], "missed": ["A-1"], "overdue": [], "own": ["A-1"]}),
        ("secretary_b", {"units": [], "missed": [], "overdue": ["B-1"], "own": ["B-1"]}),
    ],
)
def test_each_role_sees_its_own_cut_of_the_bulletin(october, client_for, role, expected):
    response = page(client_for, role)
    assert response.status_code == 200
    assert shown(response) == expected


def test_staff_see_the_ranking_in_rank_order_with_rates(october, client_for):
    html = page(client_for, "staff").content.decode()
    ranking = html[html.index('id="ranking"') : html.index('id="missed"')]
    assert ranking.index("市水务局") < ranking.index("市统计局")
    assert "100.0%" in ranking and "50.0%" in ranking
    assert 'data-unit-rank="1"' in ranking


def test_a_secretary_sees_only_their_own_line_and_no_unit_table(october, client_for):
    html = page(client_for, "secretary_a").content.decode()
    assert 'id="ranking"' not in html and 'id="missed"' not in html
    own = html[html.index('id="own"') : html.index('id="overdue"')]
    assert "统计局第一党支部" in own and "党小组会×1" in own
    assert "统计局第二党支部" not in html and "水务局第一党支部" not in html
    assert "市水务局" not in html


def test_an_inspector_of_a_unit_sees_nothing_of_the_other_unit(october, client_for):
    html = page(client_for, "inspector_a").content.decode()
    assert "市水务局" not in html and "水务局第一党支部" not in html
    # City totals are the published figures; the scope has its own line.
    assert "In your scope: 1 of 2 organizations compliant (50.0%)." in html


def test_the_totals_are_the_published_city_figures(october, client_for):
    response = page(client_for, "secretary_b")
    totals = response.content.decode()
    totals = totals[totals.index('id="totals"') :]
    assert "<dd>3</dd>" in totals and "<dd>2</dd>" in totals and "<dd>66.7%</dd>" in totals
    assert "<dd>3/4</dd>" in totals  # activities held / owed


def test_a_missing_month_is_a_404_and_nonsense_too(october, client_for):
    client = client_for("staff")
    assert client.get(reverse("portal:bulletin", args=["2026-11"])).status_code == 404
    assert client.get(reverse("portal:bulletin", args=["2026-13"])).status_code == 404
    assert client.get("/portal/reports/bulletins/october/").status_code == 404


def test_the_page_is_shown_as_built_after_a_rule_changes(october, client_for, activity_types):
    before = shown(page(client_for, "staff"))
    before_html = page(client_for, "staff").content.decode()
    # Theme days twice a month from October: a rebuild would make every branch miss one.
    rule = ComplianceRule.objects.get(activity_type=activity_types["theme_day"])
    rule.minimum_count = 2
    rule.save()
    after = page(client_for, "staff")
    assert shown(after) == before
    # The page from its totals to the end of its content (the footer's form has a fresh
    # CSRF token on every page view).
    strip = before_html.split('id="totals"')[1].split('class="site-footer"')[0]
    assert after.content.decode().split('id="totals"')[1].split('class="site-footer"')[0] == strip


def test_the_download_button_posts_the_month_to_the_downloads_view(october, client_for, settings):
    client = client_for("inspector_a")
    html = page(client_for, "inspector_a").content.decode()
    assert f'action="{reverse("portal:downloads")}"' in html
    assert 'name="ledger" value="bulletin"' in html and 'name="period" value="2026-10"' in html
    response = client.post(reverse("portal:downloads"), {"ledger": "bulletin", "period": "2026-10"})
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).worksheets[0]
    rows = [r for r in sheet.iter_rows(min_row=5, values_only=True) if any(r)]
    assert [r[2] for r in rows] == ["A-1", "A-2"]  # organization codes of unit_a only


# --- queries ----------------------------------------------------------------------------------


def _many_organizations(tree, n: int) -> None:
    """n more branches in unit_a, each owing and missing its theme day."""
    for i in range(n):
        Organization.objects.create(
            code=f"A-9{i:03d}",
            name=f"统计局第{i}支部",
            kind=OrganizationKind.BRANCH,
            unit=tree.unit_a,
            parent=tree.committee_a,
        )


def _count(client, url) -> tuple[int, int]:
    """(queries, organization lines shown) for one page view."""
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    lines = len(response.context["missed"]) + len(response.context["own_rows"])
    return len(ctx.captured_queries), lines


@pytest.mark.parametrize(
    ("role", "queries"),
    [
        # Session, user, bulletin, unit lines, organization lines (whole city: no scope line).
        ("staff", 5),
        # ... and one aggregate for the "in your scope" figures.
        ("inspector_a", 6),
        # Session, user, bulletin, their lines, the scope figures (no unit table).
        ("secretary_of_committee_a", 5),
    ],
)
def test_the_bulletin_page_costs_the_same_queries_for_few_or_many_lines(
    tree, activity_types, client_for, role, queries
):
    if role == "secretary_of_committee_a":
        user = User.objects.create(
            username="sec_committee_a", role=Role.SECRETARY, organization=tree.committee_a
        )
        client = Client()
        client.force_login(user)
    else:
        client = client_for(role)
    build_bulletin(OCTOBER, today=D(2026, 11, 27))
    url = reverse("portal:bulletin", args=["2026-10"])
    few, few_lines = _count(client, url)
    _many_organizations(tree, 40)
    build_bulletin(OCTOBER, today=D(2026, 11, 27))
    many, many_lines = _count(client, url)
    assert many_lines >= few_lines + 40
    assert few == many == queries
