"""The committee staff's admin of campaigns and supervision: campaigns with their targets, teams
and batches; inspection groups of inspectors and staff with their visits; problems recorded,
accepted and sent back through the services (each refusal a message in Chinese, never a server
error); annual reports assessed through the service, with the problems found in them recorded
through `record_problem`; key tasks; participation read-only; deployments checked; and nobody
but committee staff let in."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.contrib.admin import helpers
from django.urls import reverse

from campaigns import services
from campaigns.models import (
    AnnualReport,
    Assessment,
    Campaign,
    CampaignKind,
    Deployment,
    InspectionGroup,
    KeyMeasure,
    KeyTask,
    Participation,
    ParticipationGoods,
    Problem,
    ProblemEvent,
    ProblemState,
    Rectification,
    Severity,
    Target,
    TargetSource,
    VisitLog,
    VolunteerBatch,
    VolunteerTeam,
)
from campaigns.services import ProblemInput
from tests.campaigns.conftest import today
from tests.test_admin_pages import change_form_data

# The standing cast, built once for the module (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("module_cast")

D = datetime.date
P = ProblemState
DAY = datetime.timedelta(days=1)


@pytest.fixture
def staff_client(client_for):
    return client_for("staff")


def url(name: str, *args) -> str:
    return reverse(f"admin:campaigns_{name}", args=args)


def errors_of(response) -> dict:
    return {name: list(found) for name, found in response.context["adminform"].form.errors.items()}


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def act(client, action: str, objects, **extra):
    """Run a list action of the problem list, following the redirect back to it."""
    data = {"action": action, helpers.ACTION_CHECKBOX_NAME: [o.pk for o in objects], **extra}
    return client.post(url("problem_changelist"), data, follow=True)


def form_of(client, page_url: str, **changes) -> dict:
    """The POST a browser sends back from the page, with `changes`."""
    data = change_form_data(client.get(page_url))
    data.update(changes)
    data["_save"] = "保存"
    return {k: v for k, v in data.items() if v is not None}


def problem_for(user, organization, group=None, found=None, deadline=None, **extra):
    found = found or today() - 10 * DAY
    return services.record_problem(
        user,
        ProblemInput(
            organization=organization,
            category=extra.pop("category", "组织生活"),
            description=extra.pop("description", "三会一课记录不全"),
            found_on=found,
            deadline=deadline or found + 30 * DAY,
            group=group,
            **extra,
        ),
    )


# --- campaigns ---------------------------------------------------------------------------------


def test_staff_add_a_campaign_with_targets_teams_and_batches(staff_client):
    data = form_of(
        staff_client,
        url("campaign_add"),
        name="2026年防汛志愿服务",
        kind=CampaignKind.VOLUNTEER,
        owner="组织部",
        starts_on="2026-06-01",
        ends_on="2026-08-31",
        **{
            "targets-TOTAL_FORMS": "2",
            "targets-0-indicator": "参与党员",
            "targets-0-unit_of_measure": "名",
            "targets-0-goal": "500",
            "targets-0-source": TargetSource.MANUAL,
            "targets-0-manual_progress": "120",
            "targets-0-sort_order": "0",
            "targets-1-indicator": "在职党员报到",
            "targets-1-unit_of_measure": "名",
            "targets-1-goal": "1000",
            "targets-1-source": TargetSource.MEMBERS_REGISTERED,
            "targets-1-manual_progress": "0",
            "targets-1-sort_order": "1",
            "teams-TOTAL_FORMS": "1",
            "teams-0-name": "第一服务队",
            "batches-TOTAL_FORMS": "1",
            "batches-0-number": "1",
            "batches-0-place": "江堤",
            "batches-0-starts_on": "2026-07-01",
            "batches-0-ends_on": "2026-07-10",
        },
    )
    response = staff_client.post(url("campaign_add"), data)
    assert response.status_code == 302, errors_of(response)
    campaign = Campaign.objects.get(name="2026年防汛志愿服务")
    assert [t.indicator for t in campaign.targets.all()] == ["参与党员", "在职党员报到"]
    assert campaign.teams.get().name == "第一服务队" and campaign.batches.get().place == "江堤"
    page = staff_client.get(url("campaign_change", campaign.pk)).content.decode()
    assert "参与党员：120.00 / 500.00 名（24.0%）" in page  # the targets' progress
    assert f"{url('keytask_changelist')}?campaign__id__exact={campaign.pk}" in page


def test_a_campaign_or_batch_ending_before_it_starts_is_said_in_chinese(staff_client):
    data = form_of(
        staff_client,
        url("campaign_add"),
        name="倒置",
        kind=CampaignKind.PLAN,
        starts_on="2026-06-01",
        ends_on="2026-05-01",
        **{
            "batches-TOTAL_FORMS": "1",
            "batches-0-number": "1",
            "batches-0-place": "江堤",
            "batches-0-starts_on": "2026-07-10",
            "batches-0-ends_on": "2026-07-01",
        },
    )
    response = staff_client.post(url("campaign_add"), data)
    assert response.status_code == 200
    assert errors_of(response) == {"ends_on": ["活动结束日期不能早于开始日期。"]}
    batches = response.context["inline_admin_formsets"][2].formset
    assert batches.errors[0] == {"ends_on": ["批次结束日期不能早于开始日期。"]}
    assert not Campaign.objects.filter(name="倒置").exists()


def test_the_campaign_list_counts_what_hangs_on_each(staff_client, campaign, group, tree, staff):
    Target.objects.create(campaign=campaign, indicator="a", unit_of_measure="个", goal=1)
    Target.objects.create(campaign=campaign, indicator="b", unit_of_measure="个", goal=1)
    KeyTask.objects.create(campaign=campaign, title="规范组织生活")
    Participation.objects.create(campaign=campaign, organization=tree.branch_a)
    accepted = problem_for(staff, tree.branch_a, group)
    Problem.objects.filter(pk=accepted.pk).update(state=P.ACCEPTED)
    problem_for(staff, tree.branch_a2, group)
    response = staff_client.get(url("campaign_changelist"))
    (row,) = response.context["cl"].result_list
    assert (row.target_total, row.participation_total, row.group_total) == (2, 1, 1)
    assert (row.open_problem_total, row.key_task_total) == (1, 1)
    assert "重点任务：1项" in response.content.decode()


# --- inspection groups -------------------------------------------------------------------------


def test_an_inspection_group_takes_inspectors_and_staff_only(
    staff_client, campaign, inspector_a, secretary_a, staff, tree
):
    data = form_of(
        staff_client,
        url("inspectiongroup_add"),
        campaign=campaign.pk,
        name="第三督导组",
        towns="城关镇",
        members=[inspector_a.pk, secretary_a.pk],
        units=[tree.unit_a.pk],
        **{
            "visits-TOTAL_FORMS": "1",
            "visits-0-date": "2026-03-02",
            "visits-0-method": "listen",
            "visits-0-place": "统计局第一党支部",
            "visits-0-notes": "听取书记汇报",
        },
    )
    response = staff_client.post(url("inspectiongroup_add"), data)
    assert response.status_code == 200
    assert errors_of(response)["members"] == [
        "sec_a不能加入督导组：只有督导人员和工委工作人员参加督导。"
    ]
    data["members"] = [inspector_a.pk, staff.pk]
    response = staff_client.post(url("inspectiongroup_add"), data)
    assert response.status_code == 302, errors_of(response)
    made = InspectionGroup.objects.get(name="第三督导组")
    assert set(made.members.all()) == {inspector_a, staff}
    assert list(made.units.all()) == [tree.unit_a]
    assert VisitLog.objects.get(group=made).notes == "听取书记汇报"
    listed = staff_client.get(url("inspectiongroup_changelist"))
    row = next(g for g in listed.context["cl"].result_list if g.pk == made.pk)
    assert (row.visit_total, row.problem_total, row.overdue_total) == (1, 0, 0)


# --- problems ----------------------------------------------------------------------------------


@pytest.fixture
def listed(tree, campaign, group, staff, secretary_a, inspector_a):
    """A-1's problem by group 1, submitted; A-2's, overdue and serious; B-1's by group 2
    (another campaign), accepted."""
    other = Campaign.objects.create(
        name="2026年主题教育",
        kind=CampaignKind.STUDY,
        starts_on=today() - 90 * DAY,
        ends_on=today() + 90 * DAY,
    )
    group2 = InspectionGroup.objects.create(campaign=other, name="第二督导组")
    a1 = problem_for(inspector_a, tree.branch_a, group)
    services.answer_problem(secretary_a, a1, "补齐记录")
    a2 = problem_for(
        staff,
        tree.branch_a2,
        group,
        found=today() - 40 * DAY,
        deadline=today() - 5 * DAY,
        severity=Severity.SERIOUS,
        description="党费收缴不规范",
    )
    b1 = problem_for(staff, tree.branch_b, group2, description="换届准备不足")
    services.answer_problem(staff, b1, "已完成")
    services.accept_problem(staff, b1)
    return {"a1": a1, "a2": a2, "b1": b1, "group2": group2, "other": other}


@pytest.mark.parametrize(
    "query, expected",
    [
        ("group__campaign__id__exact={campaign}", {"a1", "a2"}),
        ("group__id__exact={group2}", {"b1"}),
        ("state__exact=submitted", {"a1"}),
        ("overdue=yes", {"a2"}),
        ("overdue=no", {"a1", "b1"}),
        ("unit={unit_b}", {"b1"}),
        ("severity__exact=serious", {"a2"}),
        ("q=党费", {"a2"}),
    ],
)
def test_staff_filter_the_problem_list(staff_client, listed, campaign, tree, query, expected):
    query = query.format(campaign=campaign.pk, group2=listed["group2"].pk, unit_b=tree.unit_b.pk)
    response = staff_client.get(url("problem_changelist") + "?" + query)
    assert response.status_code == 200
    assert {p.pk for p in response.context["cl"].result_list} == {
        listed[key].pk for key in expected
    }


def test_the_problem_list_shows_the_groups_named_with_their_campaign(staff_client, listed):
    page = staff_client.get(url("problem_changelist")).content.decode()
    assert "2026年主题教育 第二督导组" in page and "2026年基层党建专项检查 第一督导组" in page
    assert "党费收缴不规范" in page


def test_staff_record_a_problem_through_the_service(staff_client, staff, tree, group):
    data = form_of(
        staff_client,
        url("problem_add"),
        organization=tree.branch_a.pk,
        group=group.pk,
        category="组织生活",
        description="组织生活会记录缺失",
        severity=Severity.SERIOUS,
        found_on=str(today() - 3 * DAY),
        deadline=str(today() + 27 * DAY),
    )
    response = staff_client.post(url("problem_add"), data)
    assert response.status_code == 302, errors_of(response)
    made = Problem.objects.get(description="组织生活会记录缺失")
    assert (made.organization, made.group, made.created_by) == (tree.branch_a, group, staff)
    assert (made.state, made.severity) == (P.OPEN, Severity.SERIOUS)
    assert [(e.from_state, e.to_state, e.by) for e in made.events.all()] == [("", P.OPEN, staff)]


def test_a_problem_the_service_refuses_is_a_form_error_and_saves_nothing(staff_client, tree, group):
    data = form_of(
        staff_client,
        url("problem_add"),
        organization=tree.branch_a.pk,
        group=group.pk,
        category="组织生活",
        description="  ",
        severity=Severity.NORMAL,
        found_on=str(today() + 3 * DAY),
        deadline=str(today() + 2 * DAY),
    )
    response = staff_client.post(url("problem_add"), data)
    assert response.status_code == 200
    errors = errors_of(response)
    assert errors["found_on"] == ["日期不能晚于今天，请勿填写未来日期。"]
    assert "description" in errors
    assert not Problem.objects.exists()


def test_a_recorded_problem_is_read_only_with_its_history_and_answers(
    staff_client, listed, secretary_a, inspector_a
):
    a1 = listed["a1"]
    services.send_back(inspector_a, a1, "佐证材料不足")
    services.answer_problem(secretary_a, a1, "第二次整改")
    response = staff_client.get(url("problem_change", a1.pk))
    assert response.status_code == 200
    assert response.context["has_change_permission"] is False
    assert response.context["has_delete_permission"] is False
    page = response.content.decode()
    assert "佐证材料不足" in page and "第二次整改" in page and "补齐记录" in page
    inlines = {i.formset.model for i in response.context["inline_admin_formsets"]}
    assert inlines == {ProblemEvent, Rectification}


def test_the_actions_accept_and_send_back_through_the_services(staff_client, listed, staff):
    a1, a2 = listed["a1"], listed["a2"]
    # Accept: A-1 (submitted) is accepted; A-2 (open) is refused in Chinese, nothing moves.
    response = act(staff_client, "accept", [a1, a2])
    assert response.status_code == 200
    found = messages_of(response)
    assert "已验收通过1个问题的整改。" in found
    assert any(m.startswith("党费收缴不规范：") and "已验收" in m for m in found), found
    a1.refresh_from_db()
    a2.refresh_from_db()
    assert (a1.state, a2.state) == (P.ACCEPTED, P.OPEN)
    assert a1.events.last().by == staff
    # Send back: asks the reason first, then sends back what may be.
    services.answer_problem(staff, a2, "已规范收缴")
    page = act(staff_client, "send_back", [a2])
    assert page.status_code == 200 and "退回理由" in page.content.decode()
    a2.refresh_from_db()
    assert a2.state == P.SUBMITTED  # nothing until the reason is given
    empty = act(staff_client, "send_back", [a2], apply="1", reason="")
    assert empty.status_code == 200 and "form" in empty.context
    response = act(staff_client, "send_back", [a2, a1], apply="1", reason="佐证材料不足")
    found = messages_of(response)
    assert "已退回1个问题重新整改。" in found
    assert any(m.startswith("三会一课记录不全：") for m in found), found  # accepted: refused
    a2.refresh_from_db()
    assert a2.state == P.SENT_BACK and a2.events.last().note == "佐证材料不足"


def test_problems_are_never_deleted_nor_changed_in_the_admin(staff_client, listed):
    a1 = listed["a1"]
    assert staff_client.get(url("problem_delete", a1.pk)).status_code == 403
    response = staff_client.post(
        url("problem_change", a1.pk), {"description": "改写", "_save": "保存"}
    )
    assert response.status_code == 403
    a1.refresh_from_db()
    assert a1.description == "三会一课记录不全"


# --- annual reports ----------------------------------------------------------------------------


def test_an_annual_report_is_assessed_through_the_service(staff_client, tree):
    data = form_of(
        staff_client,
        url("annualreport_add"),
        organization=tree.branch_a.pk,
        year="2025",
        report="一年来，支部……",
        assessment=Assessment.GOOD,
    )
    response = staff_client.post(url("annualreport_add"), data)
    assert response.status_code == 302, errors_of(response)
    report = AnnualReport.objects.get()
    assert (report.assessment, report.assessed_on) == (Assessment.GOOD, today())
    change = url("annualreport_change", report.pk)
    data = form_of(staff_client, change, assessment=Assessment.AVERAGE)
    assert staff_client.post(change, data).status_code == 302
    report.refresh_from_db()
    assert report.assessment == Assessment.AVERAGE
    data = form_of(staff_client, change, assessment="")
    response = staff_client.post(change, data)
    assert errors_of(response)["assessment"] == ["评议等次可以修改，但不能撤销。"]
    report.refresh_from_db()
    assert report.assessment == Assessment.AVERAGE


def test_problems_found_in_an_annual_report_are_recorded_through_the_service(
    staff_client, staff, tree
):
    report = AnnualReport.objects.create(organization=tree.branch_a2, year=2025, report="述职")
    change = url("annualreport_change", report.pk)
    page = staff_client.get(change)
    prefix = next(
        i.formset.prefix
        for i in page.context["inline_admin_formsets"]
        if i.formset.model is Problem and i.formset.extra
    )
    bad = form_of(
        staff_client,
        change,
        **{
            f"{prefix}-0-category": "述职评议",
            f"{prefix}-0-description": "学习制度落实不够",
            f"{prefix}-0-severity": Severity.NORMAL,
            f"{prefix}-0-found_on": str(today()),
            f"{prefix}-0-deadline": str(today() - DAY),
        },
    )
    response = staff_client.post(change, bad)
    assert response.status_code == 200
    assert "整改期限不能早于发现问题的日期。" in response.content.decode()
    assert not Problem.objects.exists()
    good = {**bad, f"{prefix}-0-deadline": str(today() + 30 * DAY)}
    response = staff_client.post(change, good)
    assert response.status_code == 302, response.context and response.context["errors"]
    made = Problem.objects.get()
    assert (made.organization, made.annual_report, made.group) == (tree.branch_a2, report, None)
    assert (made.created_by, made.state) == (staff, P.OPEN)
    assert made.events.get().to_state == P.OPEN
    page = staff_client.get(change).content.decode()
    assert "学习制度落实不够" in page  # listed with the report, read-only
    listed = staff_client.get(url("annualreport_changelist")).context["cl"].result_list
    assert [(r.problem_total, r.open_problem_total) for r in listed] == [(1, 1)]


# --- key tasks, participation, deployments -----------------------------------------------------


def test_a_key_task_with_its_measures(staff_client, campaign, tree):
    data = form_of(
        staff_client,
        url("keytask_add") + f"?campaign={campaign.pk}",
        campaign=campaign.pk,
        title="规范组织生活",
        sort_order="1",
        **{
            "measures-TOTAL_FORMS": "2",
            "measures-0-description": "开展专项检查",
            "measures-0-organization": str(tree.committee_a.pk),
            "measures-0-deadline": str(today() - DAY),
            "measures-1-description": "建立台账",
            "measures-1-organization": str(tree.branch_a.pk),
            "measures-1-deadline": str(today() + DAY),
            "measures-1-done_on": str(today()),
        },
    )
    response = staff_client.post(url("keytask_add"), data)
    assert response.status_code == 302, errors_of(response)
    task = KeyTask.objects.get()
    assert [m.organization for m in task.measures.all()] == [tree.committee_a, tree.branch_a]
    listed = staff_client.get(url("keytask_changelist") + f"?campaign__id__exact={campaign.pk}")
    (row,) = listed.context["cl"].result_list
    assert (row.measure_total, row.done_total, row.overdue_total) == (2, 1, 1)
    assert KeyMeasure.objects.filter(done_on__isnull=True).count() == 1


def test_participation_is_read_only_with_exact_goods_value(staff_client, campaign, tree):
    filed = Participation.objects.create(
        campaign=campaign, organization=tree.branch_a, members=5, money=Decimal("100.10")
    )
    ParticipationGoods.objects.bulk_create(
        ParticipationGoods(
            participation=filed, item="书", quantity=1, unit_of_measure="本", value=Decimal("0.10")
        )
        for _ in range(3)
    )
    listed = staff_client.get(url("participation_changelist"))
    (row,) = listed.context["cl"].result_list
    assert row.goods_fen == 30
    assert "0.30" in listed.content.decode()
    assert staff_client.get(url("participation_add")).status_code == 403
    page = staff_client.get(url("participation_change", filed.pk))
    assert page.status_code == 200 and page.context["has_change_permission"] is False
    response = staff_client.post(
        url("participation_change", filed.pk), {"members": "50", "_save": "保存"}
    )
    assert response.status_code == 403
    filed.refresh_from_db()
    assert filed.members == 5


def test_a_deployment_takes_a_team_and_a_batch_of_one_campaign(staff_client, campaign, tree):
    other = Campaign.objects.create(
        name="其他", kind=CampaignKind.VOLUNTEER, starts_on=D(2025, 1, 1), ends_on=D(2025, 2, 1)
    )
    batch = VolunteerBatch.objects.create(
        campaign=campaign, number=1, place="江堤", starts_on=D(2026, 7, 1), ends_on=D(2026, 7, 2)
    )
    wrong = VolunteerTeam.objects.create(campaign=other, name="外队")
    right = VolunteerTeam.objects.create(campaign=campaign, name="第一队")
    data = {"batch": batch.pk, "team": wrong.pk, "member": tree.members["a1"].pk, "_save": "保存"}
    response = staff_client.post(url("deployment_add"), data)
    assert errors_of(response) == {"team": ["服务队与批次不属于同一专项活动。"]}
    page = response.content.decode()
    assert "其他 外队" in page and "2026年基层党建专项检查 第一队" in page
    response = staff_client.post(url("deployment_add"), {**data, "team": right.pk})
    assert response.status_code == 302, errors_of(response)
    assert Deployment.objects.get().team == right


# --- only committee staff ----------------------------------------------------------------------

NAMES = [
    "campaign",
    "inspectiongroup",
    "problem",
    "annualreport",
    "keytask",
    "participation",
    "deployment",
]


@pytest.mark.parametrize("role", ["secretary_a", "inspector_a", "inspector_city"])
def test_others_get_no_access_even_with_the_staff_flag(client, request, role, listed):
    user = request.getfixturevalue(role)
    user.is_staff = True
    user.save()
    client.force_login(user)
    login = reverse("admin:login")
    for name in NAMES:
        response = client.get(url(f"{name}_changelist"))
        assert response.status_code == 302 and response["Location"].startswith(login), name
    response = act(client, "accept", [listed["a1"]])
    assert response.redirect_chain[-1][0].startswith(login)
    listed["a1"].refresh_from_db()
    assert listed["a1"].state == P.SUBMITTED
