"""The campaigns app's ledgers (台账): registered with the framework, scoped by the selectors
(`visible_problems`, `visible_participations`), filtered by campaign, inspection group, state,
unit, organization and period, typed cells in a file that opens with openpyxl, money exact,
figures equal to the selectors', and a number of queries that does not grow with the rows."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse
from django.utils.translation import gettext, override

from branches.models import Member
from branches.periods import Period
from campaigns import selectors
from campaigns.models import (
    AnnualReport,
    Campaign,
    CampaignActivity,
    CampaignKind,
    InspectionGroup,
    Participation,
    ParticipationGoods,
    Problem,
    ProblemEvent,
    ProblemState,
    Rectification,
    Severity,
    Target,
    TargetSource,
)
from reports.ledgers import REGISTRY, LedgerFilterForm, params_from_json, write_xlsx
from tests.conftest import add_record
from tests.reports.test_ledger_files import assert_ledger_file

# The standing cast, built once for the module (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("module_cast")

D = datetime.date
UTC = datetime.UTC
CODES = ["problems", "campaign_targets", "campaign_participation"]
EVIL = '=HYPERLINK("http://x","y")'
P = ProblemState


def moment(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=UTC)


def history(problem, *states, at=None) -> None:
    """The problem's events: each move to the next state (a fixed moment for the last)."""
    previous = ""
    for state in states:
        event = ProblemEvent.objects.create(problem=problem, from_state=previous, to_state=state)
        previous = state
    if at is not None:
        ProblemEvent.objects.filter(pk=event.pk).update(at=at)


def answer(problem, measures, at) -> Rectification:
    made = Rectification.objects.create(problem=problem, measures=measures)
    Rectification.objects.filter(pk=made.pk).update(submitted_at=at)
    return made


@pytest.fixture
def data(tree, inspector_a, activity_types):
    """Two campaigns of 2025, two inspection groups, six problems and participation.

    Inspection campaign C1 (groups G1, inspector_a in it, visiting unit_a, and G2 visiting
    unit_b); theme-day campaign C2 ("七一", July).

    Problems: P1 A-1 by G1, sent back twice (two answers), overdue since April; P2 A-2 by G1,
    accepted on 6 June (Shanghai); P3 B-1 by G2, open, serious, text like a formula; P4 B-1 from
    its 2024 annual report; P6 B-1 found by G1 (outside inspector_a's scope: theirs by the
    group). Participation: C1 A-1 (5 members, 100.10 yuan, three goods of 0.10), A-2 (3, 0.20,
    goods 200.20), B-1 (4, 50); C2 B-1 filed (2 members) and tagged its theme day too, A-1
    only tagged its theme day."""
    c1 = Campaign.objects.create(
        name="2025年基层党建专项检查",
        kind=CampaignKind.INSPECTION,
        starts_on=D(2025, 1, 1),
        ends_on=D(2025, 12, 31),
        owner="组织部",
    )
    c2 = Campaign.objects.create(
        name="2025年七一主题党日",
        kind=CampaignKind.THEME_DAY,
        starts_on=D(2025, 6, 1),
        ends_on=D(2025, 7, 31),
        topic="七一",
        theme_month=D(2025, 7, 1),
    )
    g1 = InspectionGroup.objects.create(campaign=c1, name="第一督导组")
    g1.members.add(inspector_a)
    g1.units.add(tree.unit_a)
    g2 = InspectionGroup.objects.create(campaign=c1, name="第二督导组")
    g2.units.add(tree.unit_b)

    def problem(organization, found, deadline, state, **fields):
        fields.setdefault("category", "组织生活")
        fields.setdefault("description", f"{organization.code}的问题")
        return Problem.objects.create(
            organization=organization, found_on=found, deadline=deadline, state=state, **fields
        )

    p1 = problem(
        tree.branch_a,
        D(2025, 3, 1),
        D(2025, 4, 1),
        P.SENT_BACK,
        group=g1,
        description="三会一课记录不全",
        overdue_since=D(2025, 4, 2),
    )
    history(p1, P.OPEN, P.SUBMITTED, P.SENT_BACK, P.SUBMITTED, P.SENT_BACK)
    answer(p1, "第一次整改", moment(2025, 3, 20, 2))
    answer(p1, "第二次整改：补齐记录", moment(2025, 4, 10, 2))
    p2 = problem(tree.branch_a2, D(2025, 5, 10), D(2025, 6, 10), P.ACCEPTED, group=g1)
    answer(p2, "已整改", moment(2025, 6, 1, 2))
    history(p2, P.OPEN, P.SUBMITTED, P.ACCEPTED, at=moment(2025, 6, 5, 17))  # 6 June, Shanghai
    p3 = problem(
        tree.branch_b,
        D(2025, 8, 1),
        D(2025, 9, 1),
        P.OPEN,
        group=g2,
        description=EVIL,
        severity=Severity.SERIOUS,
    )
    history(p3, P.OPEN)
    report = AnnualReport.objects.create(organization=tree.branch_b, year=2024, report="述职")
    p4 = problem(
        tree.branch_b,
        D(2025, 2, 1),
        D(2025, 3, 1),
        P.OPEN,
        annual_report=report,
        category="述职",
        description="学习制度落实不够",
    )
    p6 = problem(tree.branch_b, D(2025, 10, 1), D(2025, 10, 31), P.RECTIFYING, group=g1)

    def filed(campaign, organization, members, money, *goods):
        made = Participation.objects.create(
            campaign=campaign, organization=organization, members=members, money=Decimal(money)
        )
        for value in goods:
            ParticipationGoods.objects.create(
                participation=made,
                item="棉被",
                quantity=1,
                unit_of_measure="床",
                value=Decimal(value),
            )
        return made

    filed(c1, tree.branch_a, 5, "100.10", "0.10", "0.10", "0.10")
    filed(c1, tree.branch_a2, 3, "0.20", "200.20")
    filed(c1, tree.branch_b, 4, "50")
    filed(c2, tree.branch_b, 2, "0")
    theme_day = activity_types["theme_day"]
    for organization in (tree.branch_a, tree.branch_b):
        record = add_record(organization, theme_day, D(2025, 7, 1), "七一主题党日")
        CampaignActivity.objects.create(campaign=c2, record=record)
    # Targets: by hand, members registered at their community (live), theme days (live).
    Target.objects.create(
        campaign=c1, indicator="督导覆盖", unit_of_measure="个", goal=10, manual_progress=4
    )
    Target.objects.create(
        campaign=c1,
        indicator="在职党员报到",
        unit_of_measure="名",
        goal=6,
        source=TargetSource.MEMBERS_REGISTERED,
        sort_order=1,
    )
    Member.objects.filter(member_no__in=["A0001", "A0002", "B0001"]).update(community="东街社区")
    Target.objects.create(
        campaign=c2,
        indicator="主题党日",
        unit_of_measure="次",
        goal=2,
        source=TargetSource.THEME_DAYS_ON_TOPIC,
    )
    return {
        "c1": c1,
        "c2": c2,
        "g1": g1,
        "g2": g2,
        "problems": {"P1": p1, "P2": p2, "P3": p3, "P4": p4, "P6": p6},
    }


def build(code, user, **params):
    """(ledger, worksheet, data rows as dicts by English header, file) as written."""
    ledger = REGISTRY[code](user, params)
    out = io.BytesIO()
    written = write_xlsx(ledger, out)
    ws = openpyxl.load_workbook(io.BytesIO(out.getvalue())).worksheets[0]
    with override("en"):
        names = [str(c.header) for c in ledger.columns]
    rows = [dict(zip(names, r, strict=True)) for r in ws.iter_rows(min_row=5, values_only=True)]
    if not written:
        rows = []
    assert len(rows) == written == REGISTRY[code](user, params).count()
    return ledger, ws, rows, out.getvalue()


def by(rows, key, value) -> dict:
    (found,) = [r for r in rows if r[key] == value]
    return found


def problems(user, **params) -> list[str]:
    return sorted(r["Problem"] for r in build("problems", user, **params)[2])


# --- registration ------------------------------------------------------------------------------


def test_the_three_ledgers_are_registered_with_their_filters():
    assert set(CODES) <= set(REGISTRY)
    filters = {code: [f.name for f in REGISTRY[code].filters] for code in CODES}
    assert filters == {
        "problems": ["campaign", "inspection_group", "state", "unit", "organization", "period"],
        "campaign_targets": ["campaign", "campaign_kind", "period"],
        "campaign_participation": ["campaign", "campaign_kind", "unit", "organization", "period"],
    }
    with override("zh-hans"):
        titles = {code: str(REGISTRY[code].title) for code in CODES}
    assert titles == {
        "problems": "问题整改台账",
        "campaign_targets": "专项活动目标台账",
        "campaign_participation": "专项活动参与台账",
    }


def test_the_api_lists_them_and_builds_one_as_a_job(
    client_for, data, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    client = client_for("inspector_a")
    listed = {item["code"] for item in client.get(reverse("ledger-list")).json()}
    assert set(CODES) <= listed
    with django_capture_on_commit_callbacks(execute=True):  # the (eager) task builds it
        response = client.post(
            reverse("ledger-export-list"),
            {"ledger": "problems", "inspection_group": data["g1"].pk, "state": "sent_back"},
            content_type="application/json",
        )
    assert response.status_code == 201, response.json()
    job = client.get(response["Location"]).json()
    assert job["params"] == {
        "campaign": None,
        "inspection_group": data["g1"].pk,
        "state": "sent_back",
        "unit": None,
        "organization": None,
        "period": None,
    }
    assert job["status"] == "done" and job["rows_written"] == 1
    bad = client.post(
        reverse("ledger-export-list"),
        {"ledger": "problems", "state": "lost"},
        content_type="application/json",
    )
    assert bad.status_code == 400 and "state" in bad.json()


def test_the_downloads_page_offers_them(client_for, data):
    client = client_for("secretary_a")
    assert client.get(reverse("portal:downloads") + "?ledger=problems").status_code == 200
    with override("zh-hans"):
        html = client.get(reverse("portal:downloads")).content.decode()
    assert "问题整改台账" in html and "专项活动目标台账" in html and "专项活动参与台账" in html


# --- problems: rows and types ------------------------------------------------------------------


def test_a_problem_row_carries_its_rectification(data, staff):
    with override("zh-hans"):
        ledger, ws, rows, content = build("problems", staff)
        yes, no = gettext("Yes"), gettext("No")
        seen = assert_ledger_file(ledger, content)
    assert seen == {"text", "int", "date", "datetime", "bool"}
    p1 = by(rows, "Problem", "三会一课记录不全")
    assert (p1["Campaign"], p1["Inspection group"]) == ("2025年基层党建专项检查", "第一督导组")
    assert p1["Annual report year"] is None
    assert (p1["Unit"], p1["Responsible organization"]) == ("市统计局", "统计局第一党支部")
    assert p1["Organization code"] == "A-1" and p1["Problem category"] == "组织生活"
    assert p1["Severity"] == "一般" and p1["Problem state"] == "已退回"
    assert p1["Found on"] == datetime.datetime(2025, 3, 1)
    assert p1["Rectify by"] == datetime.datetime(2025, 4, 1)
    assert p1["Overdue now"] == yes and p1["Overdue since"] == datetime.datetime(2025, 4, 2)
    assert p1["Measures taken (last answer)"] == "第二次整改：补齐记录"  # the last of two
    assert p1["Last answered at"] == datetime.datetime(2025, 4, 10, 10, 0)  # Shanghai time
    assert p1["Times sent back"] == 2 and p1["Accepted on"] is None
    p2 = by(rows, "Organization code", "A-2")
    assert p2["Problem state"] == "已验收" and p2["Overdue now"] == no
    assert p2["Accepted on"] == datetime.datetime(2025, 6, 6)  # 17:00 UTC is the next day there
    assert p2["Times sent back"] == 0
    p4 = by(rows, "Problem category", "述职")
    assert p4["Annual report year"] == 2024 and p4["Campaign"] is None
    assert p4["Measures taken (last answer)"] is None and p4["Last answered at"] is None
    evil = next(c for row in ws.iter_rows(min_row=5) for c in row if c.value == EVIL)
    assert evil.data_type == "s"  # user text that looks like a formula stays text
    assert by(rows, "Problem", EVIL)["Severity"] == "严重"
    # By unit, organization and deadline.
    assert [r["Organization code"] for r in rows] == ["A-1", "A-2", "B-1", "B-1", "B-1"]
    assert [r["Rectify by"].month for r in rows[2:]] == [3, 9, 10]


# --- problems: scope ---------------------------------------------------------------------------

SCOPE = [
    ("secretary_a", {"P1"}),
    ("secretary_b", {"P3", "P4", "P6"}),
    # Their units' problems, and those their own group found elsewhere (P6 in unit_b).
    ("inspector_a", {"P1", "P2", "P6"}),
    ("inspector_city", {"P1", "P2", "P3", "P4", "P6"}),
    ("staff", {"P1", "P2", "P3", "P4", "P6"}),
]


@pytest.mark.parametrize("role, expected", SCOPE)
def test_each_user_gets_only_the_problems_of_their_scope(role, expected, data, users):
    names = {p.description: name for name, p in data["problems"].items()}
    rows = build("problems", users[role])[2]
    assert {names[r["Problem"]] for r in rows} == expected
    assert len(rows) == len(expected)  # each once, whatever joins the scope takes
    visible = selectors.visible_problems(users[role])
    assert {names[p.description] for p in visible} == expected


def test_a_filter_outside_the_scope_gives_nothing(data, secretary_a, tree):
    assert build("problems", secretary_a, unit=tree.unit_b)[2] == []
    assert build("problems", secretary_a, organization=tree.branch_b)[2] == []
    assert build("campaign_participation", secretary_a, unit=tree.unit_b)[2] == []


# --- problems: filters -------------------------------------------------------------------------


def test_problems_by_campaign_group_state_unit_organization_and_period(data, staff, tree):
    p = {name: problem.description for name, problem in data["problems"].items()}

    def names(**params) -> set[str]:
        found = set(problems(staff, **params))
        return {name for name, text in p.items() if text in found}

    assert names(campaign=data["c1"]) == {"P1", "P2", "P3", "P6"}  # P4: an annual report's
    assert names(campaign=data["c2"]) == set()
    assert names(inspection_group=data["g1"]) == {"P1", "P2", "P6"}
    assert names(inspection_group=data["g2"]) == {"P3"}
    assert names(state=P.OPEN) == {"P3", "P4"}
    assert names(state=P.ACCEPTED) == {"P2"}
    assert names(unit=tree.unit_a) == {"P1", "P2"}
    assert names(organization=tree.committee_b) == {"P3", "P4", "P6"}  # and all under it
    assert names(period=Period.quarter(2025, 1)) == {"P1", "P4"}  # found in it
    assert names(period=Period.month(2025, 8), state=P.OPEN) == {"P3"}
    ledger = REGISTRY["problems"](
        staff, {"inspection_group": data["g1"], "state": P.SENT_BACK, "unit": tree.unit_a}
    )
    with override("zh-hans"):
        assert ledger.params.describe() == [
            "督导组：2025年基层党建专项检查 第一督导组",
            "整改状态：已退回",
            "单位：市统计局",
        ]
    assert ledger.filename().startswith(f"problems-group{data['g1'].pk}-sent_back-")


def test_the_filter_forms_offer_campaigns_and_groups_and_validate_choices(data, secretary_a):
    form = LedgerFilterForm(REGISTRY["problems"], secretary_a)
    labels = [label for _value, label in form.fields["inspection_group"].choices][1:]
    assert labels == ["2025年基层党建专项检查 第一督导组", "2025年基层党建专项检查 第二督导组"]
    offered = [c.name for c in form.fields["campaign"].queryset]
    assert offered == ["2025年七一主题党日", "2025年基层党建专项检查"]  # newest first
    with override("zh-hans"):
        assert dict(form.fields["state"].choices)[""] == "全部状态"
    params = params_from_json(
        REGISTRY["problems"], secretary_a, {"campaign": data["c1"].pk, "state": "open"}
    )
    assert params["campaign"] == data["c1"] and params["state"] == "open"
    with pytest.raises(Exception, match="state"):
        params_from_json(REGISTRY["problems"], secretary_a, {"state": "lost"})
    with pytest.raises(Exception, match="inspection_group"):
        params_from_json(REGISTRY["problems"], secretary_a, {"inspection_group": 999999})


# --- targets -----------------------------------------------------------------------------------


def test_targets_with_their_progress_and_share(data, secretary_a):
    with override("zh-hans"):
        ledger, _ws, rows, content = build("campaign_targets", secretary_a)
        seen = assert_ledger_file(ledger, content)
    assert seen == {"text", "date", "decimal", "percent"}
    assert [r["Indicator"] for r in rows] == ["主题党日", "督导覆盖", "在职党员报到"]
    by_hand = by(rows, "Indicator", "督导覆盖")
    assert by_hand["Campaign"] == "2025年基层党建专项检查" and by_hand["Led by"] == "组织部"
    assert by_hand["Campaign kind"] == "督导检查"
    assert by_hand["Starts on"] == datetime.datetime(2025, 1, 1)
    assert (by_hand["Goal"], by_hand["Progress"], by_hand["Share of the goal"]) == (10, 4, 0.4)
    assert by_hand["Progress counted from"] == "手工填报"
    registered = by(rows, "Indicator", "在职党员报到")
    assert (registered["Progress"], registered["Share of the goal"]) == (3, 0.5)
    theme = by(rows, "Indicator", "主题党日")
    assert (theme["Progress"], theme["Share of the goal"]) == (2, 1)
    # The campaign's page has the same figures (selectors.target_progress).
    for campaign in (data["c1"], data["c2"]):
        for line in selectors.target_progress(campaign):
            row = by(rows, "Indicator", line.target.indicator)
            assert (Decimal(str(row["Progress"])), row["Share of the goal"]) == (
                line.progress,
                line.share,
            )


def test_targets_by_campaign_kind_and_period(data, staff):
    def indicators(**params):
        return [r["Indicator"] for r in build("campaign_targets", staff, **params)[2]]

    assert indicators(campaign=data["c2"]) == ["主题党日"]
    assert indicators(campaign_kind=CampaignKind.INSPECTION) == ["督导覆盖", "在职党员报到"]
    assert indicators(period=Period.quarter(2025, 1)) == ["督导覆盖", "在职党员报到"]
    assert indicators(period=Period.month(2025, 7)) == ["主题党日", "督导覆盖", "在职党员报到"]
    assert indicators(period=Period.year(2024)) == []


def test_a_target_with_no_goal_has_no_share(data, staff):
    Target.objects.create(campaign=data["c2"], indicator="宣传", unit_of_measure="篇", goal=0)
    row = by(build("campaign_targets", staff)[2], "Indicator", "宣传")
    assert (row["Goal"], row["Progress"], row["Share of the goal"]) == (0, 0, None)


# --- participation -----------------------------------------------------------------------------


def lines_of(user, **params) -> dict[tuple[str, str], dict]:
    rows = build("campaign_participation", user, **params)[2]
    return {(r["Campaign"], r["Unit"]): r for r in rows}


def test_participation_by_campaign_and_unit(data, staff):
    with override("zh-hans"):
        ledger, _ws, rows, content = build("campaign_participation", staff)
        seen = assert_ledger_file(ledger, content)
    assert seen == {"text", "date", "int", "money"}
    figures = [
        (
            r["Campaign"],
            r["Unit"],
            r["Organizations taking part"],
            r["Of which by a tagged theme day"],
            r["Members taking part"],
            r["Money (yuan)"],
            r["Goods value (yuan)"],
        )
        for r in rows
    ]
    # Newest campaign first, units in their order; B-1 filed and tagged: counted once.
    assert figures == [
        ("2025年七一主题党日", "市统计局", 1, 1, 0, 0, 0),
        ("2025年七一主题党日", "市水务局", 1, 0, 2, 0, 0),
        ("2025年基层党建专项检查", "市统计局", 2, 0, 8, 100.3, 200.5),
        ("2025年基层党建专项检查", "市水务局", 1, 0, 4, 50, 0),
    ]
    assert rows[0]["Campaign kind"] == "主题党日活动" and rows[0]["Ends on"] == datetime.datetime(
        2025, 7, 31
    )


@pytest.mark.parametrize("role", ["staff", "inspector_a", "secretary_a", "secretary_b"])
def test_participation_figures_are_the_selectors(role, data, users):
    """Each line holds what `selectors.participation_totals` counts for that user, exactly."""
    user = users[role]
    ledger = REGISTRY["campaign_participation"](user, {})
    lines = {(line["campaign_name"], line["unit_name"]): line for line in ledger.rows()}
    expected = {}
    for campaign in (data["c1"], data["c2"]):
        from branches.models import Unit

        names = dict(Unit.objects.values_list("pk", "name"))
        for unit_id, totals in selectors.participation_totals(user, campaign)["by_unit"].items():
            expected[(campaign.name, names[unit_id])] = (
                totals.organizations,
                totals.members,
                totals.money,
                totals.goods_value,
            )
    got = {
        key: (line["organizations"], line["members"], line["money"], line["goods_value"])
        for key, line in lines.items()
    }
    assert got == expected


def test_participation_by_unit_organization_campaign_and_period(data, staff, tree):
    assert set(lines_of(staff, unit=tree.unit_b)) == {
        ("2025年七一主题党日", "市水务局"),
        ("2025年基层党建专项检查", "市水务局"),
    }
    only_a2 = lines_of(staff, organization=tree.branch_a2)
    assert list(only_a2) == [("2025年基层党建专项检查", "市统计局")]
    line = only_a2[("2025年基层党建专项检查", "市统计局")]
    assert (line["Organizations taking part"], line["Money (yuan)"]) == (1, 0.2)
    assert set(lines_of(staff, campaign=data["c2"])) == {
        ("2025年七一主题党日", "市统计局"),
        ("2025年七一主题党日", "市水务局"),
    }
    assert set(lines_of(staff, campaign_kind=CampaignKind.INSPECTION)) == {
        ("2025年基层党建专项检查", "市统计局"),
        ("2025年基层党建专项检查", "市水务局"),
    }
    assert len(lines_of(staff, period=Period.month(2025, 3))) == 2  # C1 only
    assert lines_of(staff, period=Period.year(2026)) == {}


def test_a_secretary_sees_their_own_participation_only(data, secretary_a):
    lines = lines_of(secretary_a)
    assert set(lines) == {
        ("2025年七一主题党日", "市统计局"),  # A-1's tagged theme day
        ("2025年基层党建专项检查", "市统计局"),
    }
    line = lines[("2025年基层党建专项检查", "市统计局")]
    assert (line["Organizations taking part"], line["Members taking part"]) == (1, 5)
    assert (line["Money (yuan)"], line["Goods value (yuan)"]) == (100.1, 0.3)


def test_money_is_exact_however_many_small_amounts(data, staff, tree):
    campaign = Campaign.objects.create(
        name="小额", kind=CampaignKind.PLAN, starts_on=D(2025, 1, 1), ends_on=D(2025, 1, 31)
    )
    made = Participation.objects.create(
        campaign=campaign, organization=tree.branch_a, money=Decimal("0.10")
    )
    ParticipationGoods.objects.bulk_create(
        ParticipationGoods(
            participation=made, item="书", quantity=1, unit_of_measure="本", value=Decimal("0.10")
        )
        for _ in range(1000)
    )
    others = [tree.committee_a, tree.branch_a2, tree.group_a]
    Participation.objects.bulk_create(
        Participation(campaign=campaign, organization=o, money=Decimal("0.10")) for o in others
    )
    (line,) = REGISTRY["campaign_participation"](staff, {"campaign": campaign}).rows()
    assert line["money"] == Decimal("0.40") and line["goods_value"] == Decimal("100.00")
    totals = selectors.participation_totals(staff, campaign)["total"]
    assert (totals.money, totals.goods_value) == (line["money"], line["goods_value"])


# --- queries: constant -------------------------------------------------------------------------


def _more(data, tree, n: int) -> None:
    """n more problems of A-2 (by G1, each answered twice and sent back) and n of B-1, and n
    more organizations filing with goods."""
    from branches.models import Organization, OrganizationKind

    made = Problem.objects.bulk_create(
        Problem(
            organization=tree.branch_a2 if i % 2 else tree.branch_b,
            group=data["g1"],
            category="组织生活",
            description=f"问题{i}",
            found_on=D(2025, 5, 1),
            deadline=D(2025, 6, 1),
            state=P.SENT_BACK,
        )
        for i in range(2 * n)
    )
    ProblemEvent.objects.bulk_create(
        ProblemEvent(problem=p, from_state=P.SUBMITTED, to_state=P.SENT_BACK) for p in made
    )
    Rectification.objects.bulk_create(
        Rectification(problem=p, measures=f"整改{k}") for p in made for k in range(2)
    )
    branches = [
        Organization.objects.create(
            code=f"A-9{i}",
            name=f"统计局第{i}支部",
            kind=OrganizationKind.BRANCH,
            unit=tree.unit_a if i % 2 else tree.unit_b,
            parent=tree.committee_a if i % 2 else tree.committee_b,
        )
        for i in range(n)
    ]
    filings = Participation.objects.bulk_create(
        Participation(campaign=data["c1"], organization=b, members=1, money=Decimal("1.01"))
        for b in branches
    )
    ParticipationGoods.objects.bulk_create(
        ParticipationGoods(
            participation=f, item="书", quantity=1, unit_of_measure="本", value=Decimal("2.02")
        )
        for f in filings
    )
    Target.objects.bulk_create(
        Target(campaign=data["c1"], indicator=f"指标{i}", unit_of_measure="个", goal=i)
        for i in range(n)
    )


# Problems: one query (every figure a subquery); participation: the filings, their goods and
# the tagged theme days; targets: the campaigns and their targets, then one query per live
# source (c1: members registered; c2: theme days). An inspector's scope reads its ids first
# (the participation ledger twice: filings and tagged records).
QUERIES = {"problems": 1, "campaign_participation": 3, "campaign_targets": 2 + 2}
INSPECTOR = {"problems": 1, "campaign_participation": 2, "campaign_targets": 0}


@pytest.mark.parametrize("code", CODES)
def test_queries_do_not_grow_with_rows(code, data, users, tree, django_assert_num_queries):
    def write(role, **params):
        return write_xlsx(REGISTRY[code](users[role], params), io.BytesIO())

    roles = ("secretary_a", "inspector_a", "staff")
    expected = {r: QUERIES[code] + (INSPECTOR[code] if r == "inspector_a" else 0) for r in roles}
    few = {}
    for role in roles:
        with django_assert_num_queries(expected[role]):
            few[role] = write(role)
    _more(data, tree, 20)
    for role in roles:
        with django_assert_num_queries(expected[role]):
            many = write(role)
        if code == "problems":
            grown = {"secretary_a": 0, "inspector_a": 40, "staff": 40}[role]
            assert many == few[role] + grown, role
        elif code == "campaign_targets":
            assert many == few[role] + 20, role
    if code != "campaign_targets":
        with django_assert_num_queries(expected["inspector_a"]):  # a unit: a subquery
            write("inspector_a", unit=tree.unit_a, period=Period.year(2025))


def test_more_filings_add_up_exactly(data, staff, tree):
    before = lines_of(staff)[("2025年基层党建专项检查", "市统计局")]
    _more(data, tree, 20)
    after = lines_of(staff)[("2025年基层党建专项检查", "市统计局")]
    assert after["Organizations taking part"] == before["Organizations taking part"] + 10
    assert after["Money (yuan)"] == pytest.approx(before["Money (yuan)"] + 10.10)
    line = next(
        line
        for line in REGISTRY["campaign_participation"](staff, {"unit": tree.unit_a}).rows()
        if line["campaign_name"] == "2025年基层党建专项检查"
    )
    assert line["money"] == Decimal("110.40") and line["goods_value"] == Decimal("220.70")
