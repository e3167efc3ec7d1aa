"""The dashboard's figures are the ledgers' and the lists' for the same scope and period:
each chart is checked against the ledger (`reports.ledgers` registry) or list selector that an
inspector would download or open, for staff, a unit inspector and a secretary."""

from __future__ import annotations

from decimal import Decimal

import pytest

from branches.selectors import visible_members
from campaigns.models import ProblemState
from dashboard import selectors
from evaluations.models import DesignationStatus, ProgramKind
from pairings.models import HelpKind
from reports.ledgers import REGISTRY, params_from_json
from tests.dashboard.conftest import TODAY

pytestmark = pytest.mark.usefixtures("module_cast", "module_figures")

ROLES = ["staff", "inspector_a", "secretary_a"]


def ledger(code, user, **params):
    cls = REGISTRY[code]
    return cls(user, params_from_json(cls, user, params))


@pytest.mark.parametrize("role", ROLES)
def test_owed_and_ranking_are_the_compliance_ledger_of_the_month(role, cast):
    user = cast.users[role]
    rows = list(ledger("compliance", user, period="2026-11").rows())
    owing = [r for r in rows if r["result"].missing]
    owed = selectors.owed(user, TODAY)
    assert owed["month"] == "2026-11"
    assert owed["organizations_owing"] == len(owing)
    assert len(owing) == {"staff": 2, "inspector_a": 1, "secretary_a": 0}[role]
    assert {o["id"] for o in owed["organizations"]} == {r["pk"] for r in owing}
    assert {o["id"]: o["detail"] for o in owed["organizations"]} == {
        r["pk"]: r["result"].missing_detail() for r in owing
    }
    ranking = selectors.compliance(user, TODAY)["ranking"]
    assert ranking, "some unit owed something in November"
    for line in ranking:
        unit_rows = list(ledger("compliance", user, period="2026-11", unit=line["unit_id"]).rows())
        judged = [r for r in unit_rows if r["result"].owed]
        assert line["organizations"] == len(judged)
        assert line["compliant"] == sum(r["result"].compliant for r in judged)
        assert line["owed"] == sum(r["result"].owed for r in judged)
        assert line["held"] == sum(r["result"].held for r in judged)


def test_the_figures_of_november_as_built(cast):
    """branch_a held its theme day (and group_a its group meeting), branch_a2 and branch_b
    did not: unit_a one of two."""
    tree = cast.tree
    ranking = selectors.compliance(cast.users["staff"], TODAY)["ranking"]
    assert [(u["unit"], u["organizations"], u["compliant"], u["rate"]) for u in ranking] == [
        (tree.unit_a.name, 2, 1, 0.5),
        (tree.unit_b.name, 1, 0, 0.0),
    ]
    owed = selectors.owed(cast.users["staff"], TODAY)
    assert owed["organizations_owing"] == 2
    assert [(t["type"], t["organizations"], t["missing"]) for t in owed["by_type"]] == [
        ("主题党日", 2, 2)
    ]
    assert [o["name"] for o in owed["organizations"]] == sorted(
        [tree.branch_a2.name, tree.branch_b.name]
    )


@pytest.mark.parametrize("role", ROLES)
def test_overdue_elections_are_the_ledgers(role, cast):
    user = cast.users[role]
    found = selectors.elections(user)
    assert found["overdue"] == ledger("overdue_elections", user).count()
    for line in found["by_unit"]:
        assert line["overdue"] == ledger("overdue_elections", user, unit=line["unit_id"]).count()
    expected = {"staff": 1, "inspector_a": 1, "secretary_a": 1}[role]
    assert found["overdue"] == expected


@pytest.mark.parametrize("role", ROLES)
def test_problems_by_unit_are_the_problem_ledgers(role, cast):
    user = cast.users[role]
    found = selectors.problems(user, TODAY)
    problems = ledger("problems", user).queryset().exclude(state=ProblemState.ACCEPTED)
    assert found["open"] == problems.count()
    assert found["overdue"] == problems.filter(deadline__lt=TODAY).count()
    for line in found["by_unit"]:
        in_unit = (
            ledger("problems", user, unit=line["unit_id"])
            .queryset()
            .exclude(state=ProblemState.ACCEPTED)
        )
        assert line["open"] == in_unit.count()
        assert line["overdue"] == in_unit.filter(deadline__lt=TODAY).count()
    assert (found["open"], found["overdue"]) == {
        "staff": (4, 2),
        "inspector_a": (3, 1),
        "secretary_a": (3, 1),
    }[role]


@pytest.mark.parametrize("role", ROLES)
def test_titles_by_kind_are_the_designation_ledgers(role, cast):
    user = cast.users[role]
    titles = {t["kind"]: t["count"] for t in selectors.evaluations(user, TODAY)["titles"]}
    for kind in ProgramKind.values:
        current = ledger("designations", user, program_kind=kind, status="current").count()
        assert titles.get(kind, 0) == current
    assert (
        titles
        == {
            "staff": {"five_star": 2, "brand": 1},
            "inspector_a": {"five_star": 1, "brand": 1},
            "secretary_a": {"five_star": 1},
        }[role]
    )
    assert DesignationStatus.REVOKED  # the revoked base title of branch_a is not counted


@pytest.mark.parametrize("role", ROLES)
def test_help_money_by_quarter_is_the_help_ledgers(role, cast):
    user = cast.users[role]
    quarters = selectors.pairings(user, TODAY)["help_by_quarter"]
    assert [q["quarter"] for q in quarters] == ["2026Q1", "2026Q2", "2026Q3", "2026Q4"]
    for line in quarters:
        period = f"{line['quarter'][:4]}-{line['quarter'][4:]}"
        funds = ledger("help_records", user, period=period, kind=HelpKind.FUNDS).queryset()
        goods = ledger("help_records", user, period=period, kind=HelpKind.GOODS).queryset()
        assert Decimal(line["money"]) == sum((r.amount for r in funds), Decimal("0.00"))
        assert Decimal(line["goods"]) == sum((r.value for r in goods), Decimal("0.00"))
    by_quarter = {q["quarter"]: (q["money"], q["goods"]) for q in quarters}
    if role == "staff":
        assert by_quarter["2026Q4"] == ("300.03", "0.00")  # 3 x 100.01, added in fen
        assert by_quarter["2026Q3"] == ("0.10", "50.50")
    else:
        assert by_quarter["2026Q3"] == ("0.00", "0.00")  # branch_b's help is not theirs


@pytest.mark.parametrize("role", ROLES)
def test_members_are_the_roster_and_the_member_list(role, cast):
    user = cast.users[role]
    found = selectors.members(user, TODAY)
    assert found["total"] == ledger("roster", user).count() == visible_members(user).count()
    assert found["youth"]["count"] == visible_members(user).youth(TODAY).count()
    assert sum(b["count"] for b in found["age_bands"]) == found["total"]
    assert sum(e["count"] for e in found["education"]) == found["total"]
    assert found["probationary"]["count"] == (
        visible_members(user).filter(status="probationary").count()
    )
    assert found["total"] == {"staff": 6, "inspector_a": 4, "secretary_a": 3}[role]


def test_docking_per_scheme(cast, figures):
    staff = cast.users["staff"]
    line = next(
        s
        for s in selectors.pairings(staff, TODAY)["schemes"]
        if s["scheme_id"] == figures["scheme"].pk
    )
    assert (line["pairings"], line["docked"]) == (2, 1)
    assert line["url"] == f"/portal/pairings/?scheme={figures['scheme'].pk}"


@pytest.mark.parametrize("role", ROLES)
def test_each_member_figure_is_the_member_list_it_links_to(role, cast, client_for):
    """Age bands, youth, education, 50 years in the party and probationary members: the
    member list at each figure's `url` finds as many members as the figure says."""
    import datetime

    from django.utils import timezone

    from branches.models import Member, years_ago

    user = cast.users[role]
    today = timezone.localdate()
    # Members of every age and party standing, so that no band is empty by chance.
    ages = [30, 80, 36, 50, 61, 35, 45, 58]
    for i, member in enumerate(visible_members(user).order_by("pk")):
        age = ages[i % len(ages)]
        Member.objects.filter(pk=member.pk).update(
            birth_date=years_ago(today, age) - datetime.timedelta(days=1),
            joined_on=years_ago(today, 50 if age == 80 else 10),
        )
    found = selectors.members(user)
    figures = [
        *found["age_bands"],
        found["youth"],
        *found["education"],
        found["fifty_years"],
        found["probationary"],
    ]
    client = client_for(role)
    for figure in figures:
        response = client.get(figure["url"])
        assert response.status_code == 200
        assert response.context["page"].paginator.count == figure["count"], figure
    assert sum(1 for band in found["age_bands"] if band["count"]) >= 3
    assert found["fifty_years"]["count"] >= 1


def test_an_age_band_or_fifty_years_that_is_not_one_is_refused_not_a_500(cast, client_for):
    client = client_for("staff")
    for query in ({"age": "99-100"}, {"fifty_years": "perhaps"}, {"age": "\x00"}):
        assert client.get("/api/members/", query).status_code == 400
        assert client.get("/portal/members/", query).status_code in (200, 400)
