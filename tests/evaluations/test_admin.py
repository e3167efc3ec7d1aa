"""The committee staff's admin of evaluations: programs with their criteria and stages (the
standard ones given to a new program, the criteria frozen once the window opens or applications
exist: a change is then refused in Chinese and nothing saved), applications nominated and moved
through the services by the list actions (a refusal is a message, never a server error), titles
re-reviewed through the service, re-reviews read-only, and nobody but committee staff let in."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.contrib.admin import helpers
from django.urls import reverse
from django.utils import translation

from evaluations import services
from evaluations.models import (
    Application,
    ApplicationStatus,
    Criterion,
    Designation,
    DesignationStatus,
    Program,
    ReReview,
    ReReviewOutcome,
    Stage,
)
from evaluations.services import ScoreInput
from tests.evaluations.conftest import full_marks, today
from tests.test_admin_pages import change_form_data

D = datetime.date
S = ApplicationStatus
FROZEN = "的评选标准已冻结：申报已开始或已有申报。"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _zh_hans():
    with translation.override("zh-hans"):
        yield


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


def url(name: str, *args) -> str:
    return reverse(f"admin:evaluations_{name}", args=args)


def errors_of(response) -> dict:
    return {name: list(found) for name, found in response.context["adminform"].form.errors.items()}


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def act(client, model: str, action: str, objects, index=0, **extra):
    """Run a list action on `objects`, following the redirect back to the list (index None: as
    a confirmation page posts it)."""
    data = {"action": action, helpers.ACTION_CHECKBOX_NAME: [o.pk for o in objects], **extra}
    if index is not None:
        data["index"] = index
    return client.post(url(f"{model}_changelist"), data, follow=True)


def scores_for(application, points):
    criteria = Criterion.objects.filter(
        program=application.program, organization_kind=application.organization.kind
    ).order_by("sort_order", "pk")
    return [ScoreInput(c.pk, Decimal(points)) for c in criteria]


@pytest.fixture
def later(program):
    """The program, its window not open yet (opens in three days): criteria may change."""
    program.opens_on = today() + datetime.timedelta(days=3)
    program.save()
    return program


# --- programs ------------------------------------------------------------------------------------


def program_form(**extra) -> dict:
    data = {
        "name": "2027年度五星支部",
        "kind": "five_star",
        "year": "2027",
        "opens_on": "2027-03-01",
        "closes_on": "2027-04-30",
        "title": "五星党支部",
        "valid_years": "3",
        "trimmed_mean_from": "5",
        "quota": '{"branch": 90}',
        "standard": "on",
        "criteria-TOTAL_FORMS": "0",
        "criteria-INITIAL_FORMS": "0",
        "criteria-MIN_NUM_FORMS": "0",
        "criteria-MAX_NUM_FORMS": "1000",
        "stages-TOTAL_FORMS": "0",
        "stages-INITIAL_FORMS": "0",
        "stages-MIN_NUM_FORMS": "0",
        "stages-MAX_NUM_FORMS": "1000",
        "_save": "保存",
    }
    data.update(extra)
    return data


def test_a_new_program_starts_with_the_standard_criteria_and_stages(
    staff_client, inspector_a, secretary_a
):
    assert staff_client.get(url("program_add")).status_code == 200
    refused = staff_client.post(
        url("program_add"), program_form(reviewers=[inspector_a.pk, secretary_a.pk])
    )
    assert refused.status_code == 200
    assert errors_of(refused)["reviewers"] == [
        "sec_a不能担任评委：只有督导检查人员和工委工作人员可以评分。"
    ]
    assert not Program.objects.exists()
    backwards = staff_client.post(url("program_add"), program_form(closes_on="2027-02-01"))
    assert errors_of(backwards) == {"closes_on": ["申报截止日期不能早于申报开始日期。"]}
    for quota in ('{"支部": 90}', '{"branch": "很多"}', "[90]"):
        wrong = staff_client.post(url("program_add"), program_form(quota=quota))
        assert errors_of(wrong)["quota"][0].startswith('请按组织类别填写名额，如{"branch": 90}')
    response = staff_client.post(url("program_add"), program_form(reviewers=[inspector_a.pk]))
    assert response.status_code == 302, errors_of(response)
    made = Program.objects.get()
    assert list(made.reviewers.all()) == [inspector_a]
    assert made.criteria.count() == 15  # five for each kind of organization
    assert list(made.stages.order_by("order").values_list("name", flat=True)) == [
        "实地考察",
        "集体评审",
        "互比互评",
        "现场考核",
    ]
    # Without the box, it is made as given.
    data = program_form(name="2027年度品牌", kind="brand")
    del data["standard"]
    assert staff_client.post(url("program_add"), data).status_code == 302
    bare = Program.objects.get(name="2027年度品牌")
    assert not bare.criteria.exists() and not bare.stages.exists()


def test_the_program_list_shows_counts_and_the_freeze(staff_client, program, later, tree, staff):
    services.nominate(staff, program, tree.branch_a)
    other = Program.objects.create(
        name="2030年度品牌",
        kind="brand",
        year=2030,
        opens_on=today() + datetime.timedelta(days=100),
        closes_on=today() + datetime.timedelta(days=130),
        title="党建品牌",
    )
    response = staff_client.get(url("program_changelist"))
    assert response.status_code == 200
    rows = {p.pk: p for p in response.context["cl"].result_list}
    assert (rows[program.pk].application_total, rows[other.pk].application_total) == (1, 0)
    admin_ = response.context["cl"].model_admin
    assert admin_.criteria_frozen(rows[program.pk]) is True  # an application exists
    assert admin_.criteria_frozen(rows[other.pk]) is False


def test_the_standards_are_given_by_the_list_action_only_where_they_may(staff_client, program):
    empty = Program.objects.create(
        name="2030年度品牌",
        kind="brand",
        year=2030,
        opens_on=today() + datetime.timedelta(days=100),
        closes_on=today() + datetime.timedelta(days=130),
        title="党建品牌",
    )
    opened = Program.objects.create(
        name="2026年度基地",
        kind="base",
        year=2026,
        opens_on=today() - datetime.timedelta(days=1),
        closes_on=today() + datetime.timedelta(days=30),
        title="示范基地",
    )
    response = act(staff_client, "program", "give_the_standards", [empty, opened])
    assert response.status_code == 200
    assert (empty.criteria.count(), empty.stages.count()) == (15, 4)
    # The window of the other has opened: its criteria are frozen (empty), its stages given.
    assert (opened.criteria.count(), opened.stages.count()) == (0, 4)
    found = messages_of(response)
    assert f"2026年度基地{FROZEN}" in found
    assert "2030年度品牌现有评选标准15项、评审环节4个。" in found


def test_criteria_change_until_the_window_opens(staff_client, later):
    page = staff_client.get(url("program_change", later.pk))
    assert 'name="criteria-0-max_score"' in page.content.decode()  # editable
    data = change_form_data(page)
    first = Criterion.objects.filter(program=later).order_by("organization_kind", "sort_order")[0]
    index = next(i for i in range(15) if data[f"criteria-{i}-id"] == first.pk)
    data[f"criteria-{index}-max_score"] = "25.00"
    response = staff_client.post(url("program_change", later.pk), data)
    assert response.status_code == 302, response.context and response.context["errors"]
    first.refresh_from_db()
    assert first.max_score == Decimal("25.00")


def test_criteria_frozen_once_applications_exist_refuse_a_change_and_save_nothing(
    staff_client, later, tree, staff
):
    page = staff_client.get(url("program_change", later.pk))  # opened before the freeze
    data = change_form_data(page)
    services.nominate(staff, later, tree.branch_a)  # now an application exists
    data["name"] = "改名"
    data["criteria-0-max_score"] = "25.00"
    response = staff_client.post(url("program_change", later.pk), data)
    assert response.status_code == 200
    assert f"{later.name}{FROZEN}" in response.content.decode()
    later.refresh_from_db()
    assert later.name != "改名"
    assert set(later.criteria.values_list("max_score", flat=True)) == {Decimal("20.00")}
    # A criterion deleted or added is refused alike.
    data = change_form_data(page)
    data["criteria-0-DELETE"] = "on"
    response = staff_client.post(url("program_change", later.pk), data)
    assert f"{later.name}{FROZEN}" in response.content.decode()
    assert later.criteria.count() == 15


def test_frozen_criteria_are_read_only_and_the_rest_still_saves(
    staff_client, program, inspector_city
):
    # The window opened last week: frozen.
    page = staff_client.get(url("program_change", program.pk))
    html = page.content.decode()
    assert 'name="criteria-0-max_score"' not in html and "班子坚强" in html
    assert 'name="stages-0-pass_threshold"' in html  # stages still change
    data = change_form_data(page)  # what the page posts back, nothing changed
    data["reviewers"] = [*data.get("reviewers", []), inspector_city.pk]
    data["stages-0-pass_threshold"] = "70.00"
    response = staff_client.post(url("program_change", program.pk), data)
    assert response.status_code == 302, response.context and response.context["errors"]
    assert program.reviewers.filter(pk=inspector_city.pk).exists()
    assert program.stages.get(order=1).pass_threshold == Decimal("70.00")


def test_each_kind_of_stage_once(staff_client, later):
    data = change_form_data(staff_client.get(url("program_change", later.pk)))
    data["stages-1-kind"] = data["stages-0-kind"]
    response = staff_client.post(url("program_change", later.pk), data)
    assert response.status_code == 200
    assert "同一评选项目中每类评审环节只能设置一次。" in response.content.decode()


# --- applications --------------------------------------------------------------------------------


@pytest.fixture
def applications(tree, program, staff, secretary_a, inspector_a):
    """A-1 applied and submitted, under review at 实地考察 scored 85 and 95; A-2 submitted by
    nomination; B-1 a draft made in the database."""
    a1 = services.submit_application(
        secretary_a, services.save_application(secretary_a, full_marks(program, tree.branch_a))
    )
    a1 = services.start_review(staff, a1)
    services.submit_sheet(inspector_a, a1, scores_for(a1, "17"))
    services.submit_sheet(staff, a1, scores_for(a1, "19"))
    a2 = services.nominate(staff, program, tree.branch_a2)
    b1 = Application.objects.create(program=program, organization=tree.branch_b)
    return {"a1": a1, "a2": a2, "b1": b1}


def test_the_application_list_shows_the_current_result(staff_client, applications):
    response = staff_client.get(url("application_changelist"))
    assert response.status_code == 200
    rows = {a.pk: a for a in response.context["cl"].result_list}
    a1 = rows[applications["a1"].pk]
    assert (a1.current_result, a1.reviewer_total) == (Decimal("90.00"), 2)
    assert rows[applications["a2"].pk].current_result is None
    page = response.content.decode()
    assert "90.00" in page and "当前环节得分" in page


@pytest.mark.parametrize(
    "query, expected",
    [
        ("status__exact=submitted", {"a2"}),
        ("status__exact=draft", {"b1"}),
        ("stage__kind__exact=field_visit", {"a1"}),
        ("organization__kind__exact=branch", {"a1", "a2", "b1"}),
        ("unit={unit_b}", {"b1"}),
        ("program__id__exact={program}", {"a1", "a2", "b1"}),
        ("nominated__exact=1", {"a2"}),
        ("q=第二", {"a2"}),
    ],
)
def test_staff_filter_the_application_list(staff_client, applications, tree, query, expected):
    query = query.format(unit_b=tree.unit_b.pk, program=applications["a1"].program_id)
    response = staff_client.get(url("application_changelist") + "?" + query)
    assert response.status_code == 200
    found = {a.pk for a in response.context["cl"].result_list}
    assert found == {applications[key].pk for key in expected}


def test_the_application_page_is_read_only_with_its_assessment_and_sheets(
    staff_client, applications
):
    response = staff_client.get(url("application_change", applications["a1"].pk))
    assert response.status_code == 200
    assert response.context["has_change_permission"] is False
    html = response.content.decode()
    assert "台账齐全" in html  # the self-assessment's evidence
    assert "insp_a" in html and "85.00" in html and "95.00" in html  # the sheets
    assert "实地考察 90.00" in html  # the results by stage
    assert staff_client.get(url("application_delete", applications["a1"].pk)).status_code == 403


def test_staff_nominate_through_the_service(staff_client, program, tree, staff):
    data = {"program": program.pk, "organization": tree.branch_b.pk, "summary": "成效明显"}
    response = staff_client.post(url("application_add"), {**data, "_save": "保存"})
    assert response.status_code == 302, errors_of(response)
    made = Application.objects.get()
    assert (made.status, made.nominated, made.created_by) == (S.SUBMITTED, True, staff)
    again = staff_client.post(url("application_add"), {**data, "_save": "保存"})
    assert again.status_code == 200
    assert errors_of(again)["__all__"] == [f"水务局第一党支部已申报{program.name}。"]
    group = staff_client.post(
        url("application_add"), {**data, "organization": tree.group_a.pk, "_save": "保存"}
    )
    assert "不接受党小组申报" in errors_of(group)["__all__"][0]
    assert Application.objects.count() == 1


def test_the_actions_move_applications_through_the_services(
    staff_client, applications, inspector_a, staff
):
    a1, a2, b1 = applications["a1"], applications["a2"], applications["b1"]
    # Start the review: A-2 goes in; B-1 (a draft) is refused in Chinese.
    response = act(staff_client, "application", "start_review", [a2, b1])
    assert response.status_code == 200
    found = messages_of(response)
    assert "已有1份申报进入评审。" in found
    assert any(m.startswith("水务局第一党支部") and "草稿" in m for m in found), found
    a2.refresh_from_db()
    b1.refresh_from_db()
    assert (a2.status, a2.stage.order, b1.status) == (S.UNDER_REVIEW, 1, S.DRAFT)
    # Close the stage: A-1 (90) goes to the next; A-2 has no sheet yet.
    response = act(staff_client, "application", "close_stage", [a1, a2])
    found = messages_of(response)
    assert "已结束1份申报的当前环节。" in found
    assert f"{a2}：本环节还没有评审人评分。" in found
    a1.refresh_from_db()
    assert a1.stage.order == 2
    # Award before the last stage: refused; not awarded: done.
    response = act(staff_client, "application", "award", [a1])
    assert any("尚未通过全部评审环节" in m for m in messages_of(response))
    assert not Designation.objects.exists()
    response = act(staff_client, "application", "not_award", [a2])
    assert "1份申报评定为不授予。" in messages_of(response)
    a2.refresh_from_db()
    assert a2.status == S.NOT_AWARDED
    # Through the last stage, then awarded: the title is made.
    for _ in range(3):
        services.submit_sheet(inspector_a, a1, scores_for(a1, "18"))
        act(staff_client, "application", "close_stage", [a1])
        a1.refresh_from_db()
    assert a1.stage.order == 4
    response = act(staff_client, "application", "award", [a1])
    assert "已为1份申报授予称号。" in messages_of(response)
    title = Designation.objects.get(application=a1)
    assert title.status == DesignationStatus.CURRENT and title.title == a1.program.title


# --- designations and re-reviews -----------------------------------------------------------------


@pytest.fixture
def titles(tree, program):
    def make(organization, valid_until):
        return Designation.objects.create(
            program=program,
            organization=organization,
            title=program.title,
            awarded_on=valid_until.replace(year=valid_until.year - 3),
            valid_until=valid_until,
        )

    return {
        "a1": make(tree.branch_a, today() + datetime.timedelta(days=10)),
        "b1": make(tree.branch_b, today() + datetime.timedelta(days=400)),
    }


def test_designations_list_and_filter(staff_client, titles, tree, staff):
    services.re_review(staff, titles["b1"], ReReviewOutcome.REVOKED, "整改不力")
    base = url("designation_changelist")

    def found(query):
        response = staff_client.get(f"{base}?{query}")
        assert response.status_code == 200
        return {d.pk for d in response.context["cl"].result_list}

    a1, b1 = titles["a1"].pk, titles["b1"].pk
    assert found("") == {a1, b1}
    assert found("re_review=due") == {a1}
    assert found("status__exact=revoked") == {b1}
    assert found("program__kind__exact=demonstration_site") == {a1, b1}
    assert found("program__kind__exact=brand") == set()
    assert found(f"unit={tree.unit_a.pk}") == {a1}
    services.list_due_re_reviews()
    assert found("re_review=listed") == {a1}
    page = staff_client.get(base).content.decode()
    assert "已撤销" in page
    response = staff_client.get(url("designation_change", a1))
    assert response.status_code == 200 and response.context["has_change_permission"] is False
    assert staff_client.get(url("designation_add")).status_code == 403


def test_a_re_review_keeps_or_revokes_through_the_service(staff_client, titles, staff):
    a1, b1 = titles["a1"], titles["b1"]
    # The action asks for the outcome and the reason first.
    page = act(staff_client, "designation", "re_review", [a1, b1])
    assert page.status_code == 200
    html = page.content.decode()
    assert "复评复审称号" in html and "统计局第一党支部" in html and 'name="reason"' in html
    # Without a reason: asked again, nothing recorded.
    again = act(staff_client, "designation", "re_review", [a1], apply="1", outcome="revoked")
    assert again.status_code == 200 and 'name="reason"' in again.content.decode()
    assert not ReReview.objects.exists()
    # Kept: another term.
    before = a1.valid_until
    response = act(
        staff_client,
        "designation",
        "re_review",
        [a1],
        index=None,  # as the page posts it
        apply="1",
        outcome="kept",
        reason="复查合格",
    )
    assert "已记录1个称号的复评复审结果。" in messages_of(response)
    a1.refresh_from_db()
    assert a1.valid_until == before.replace(year=before.year + 3)
    assert ReReview.objects.get().decided_by == staff
    # Revoked, then once more: the second is refused in Chinese, not a server error.
    act(
        staff_client,
        "designation",
        "re_review",
        [b1],
        apply="1",
        outcome="revoked",
        reason="整改不力",
    )
    b1.refresh_from_db()
    assert (b1.status, b1.revoke_reason) == (DesignationStatus.REVOKED, "整改不力")
    response = act(
        staff_client, "designation", "re_review", [b1], apply="1", outcome="kept", reason="复查"
    )
    assert response.status_code == 200
    assert messages_of(response) == [f"{b1}：该称号已被撤销。"]
    assert b1.re_reviews.count() == 1


def test_re_reviews_are_a_read_only_history(staff_client, titles, staff):
    review = services.re_review(staff, titles["a1"], ReReviewOutcome.KEPT, "复查合格")
    response = staff_client.get(url("rereview_changelist") + "?outcome__exact=kept")
    assert [r.pk for r in response.context["cl"].result_list] == [review.pk]
    page = staff_client.get(url("rereview_change", review.pk))
    assert page.status_code == 200 and page.context["has_change_permission"] is False
    assert staff_client.get(url("rereview_add")).status_code == 403
    assert staff_client.get(url("rereview_delete", review.pk)).status_code == 403


# --- only committee staff ------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["secretary_a", "inspector_a", "inspector_city"])
def test_others_get_no_access_even_with_the_staff_flag(client, request, role, applications):
    user = request.getfixturevalue(role)
    user.is_staff = True
    user.save()
    client.force_login(user)
    login = reverse("admin:login")
    for name in ("program", "application", "designation", "rereview"):
        response = client.get(url(f"{name}_changelist"))
        assert response.status_code == 302 and response["Location"].startswith(login), name
    response = client.post(
        url("application_changelist"),
        {
            "action": "start_review",
            "index": 0,
            helpers.ACTION_CHECKBOX_NAME: [applications["a2"].pk],
        },
    )
    assert response.status_code == 302 and response["Location"].startswith(login)
    applications["a2"].refresh_from_db()
    assert applications["a2"].status == S.SUBMITTED
    assert Stage.objects.filter(program=applications["a2"].program).count() == 4
