"""Portal pages of evaluations: a secretary applies (self-assessment, files) and submits from a
phone, cannot change it afterwards, withdraws; reviewers see the evidence from the data, score
once per stage and read the others' sheets only after their own; the honour roll counts;
scope (404), refusals (403), Chinese errors on bad input with nothing saved, and query counts
that do not grow with the applications or the criteria."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Role, User
from evaluations import services
from evaluations.models import (
    Application,
    ApplicationAttachment,
    ApplicationStatus,
    Criterion,
    Designation,
    DesignationStatus,
    Program,
    ProgramKind,
    ReviewSheet,
    SelfAssessment,
)
from evaluations.services import ScoreInput
from tests.evaluations.conftest import full_marks, today

pytestmark = pytest.mark.usefixtures("module_cast")

D = datetime.date
S = ApplicationStatus
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n" + b"0" * 64


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    """Uploads go to a temporary folder, not the project's media/."""
    settings.MEDIA_ROOT = tmp_path


def url(name: str, *args) -> str:
    return reverse(f"portal:{name}", args=[getattr(a, "pk", a) for a in args])


def text(response) -> str:
    return response.content.decode()


def criteria_of(program, organization) -> list[Criterion]:
    return list(
        Criterion.objects.filter(program=program, organization_kind=organization.kind).order_by(
            "sort_order", "pk"
        )
    )


def form_data(program, organization, points="18", action="submit", **extra) -> dict:
    data = {"summary": "三会一课规范，结对共建成效明显", "action": action}
    for c in criteria_of(program, organization):
        data[f"score_{c.pk}"] = points
        data[f"evidence_{c.pk}"] = "台账齐全"
    data.update(extra)
    return data


def upload(name="证明.png", content=PNG, content_type="image/png"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def counts() -> tuple[int, int, int]:
    return (
        Application.objects.count(),
        SelfAssessment.objects.count(),
        ApplicationAttachment.objects.count(),
    )


def scores_for(application, points="18") -> list[ScoreInput]:
    return [
        ScoreInput(c.pk, Decimal(points))
        for c in criteria_of(application.program, application.organization)
    ]


def score_data(application, points="17", **extra) -> dict:
    data = {}
    for c in criteria_of(application.program, application.organization):
        data[f"score_{c.pk}"] = points
        data[f"comment_{c.pk}"] = "良好"
    data.update(extra)
    return data


@pytest.fixture
def submitted(tree, program, secretary_a):
    application = services.save_application(secretary_a, full_marks(program, tree.branch_a))
    return services.submit_application(secretary_a, application)


@pytest.fixture
def reviewing(submitted, staff):
    """branch_a's application under review at the first stage."""
    return services.start_review(staff, submitted)


# --- a secretary applies -------------------------------------------------------------------------


def test_the_program_list_offers_the_secretary_to_apply(tree, program, client_for):
    response = client_for("secretary_a").get(url("evaluation_programs"))
    assert response.status_code == 200
    html = text(response)
    assert program.name in html and "正在申报" in html
    assert f"申报时间：{program.opens_on:%Y-%m-%d} 至 {program.closes_on:%Y-%m-%d}" in html
    assert url("evaluation_apply", program, tree.branch_a) in html
    assert url("evaluation_apply", program, tree.group_a) not in html  # a group takes none
    assert "评选表彰" in html  # the nav link


def test_a_secretary_applies_with_a_self_assessment_and_a_file_and_submits_it(
    tree, program, client_for, secretary_a
):
    client = client_for("secretary_a")
    form = client.get(url("evaluation_apply", program, tree.branch_a))
    assert form.status_code == 200
    html = text(form)
    assert 'enctype="multipart/form-data"' in html
    assert 'accept="image/*,application/pdf" capture="environment" multiple' in html
    assert "支部班子好" in html and "自评分（0 至 20）" in html

    response = client.post(
        url("evaluation_apply", program, tree.branch_a),
        form_data(program, tree.branch_a, attachments=[upload(), upload("方案.pdf", PDF)]),
    )
    assert response.status_code == 302
    application = Application.objects.get()
    assert response["Location"] == url("evaluation_application", application)
    assert (application.status, application.created_by) == (S.SUBMITTED, secretary_a)
    assert application.summary == "三会一课规范，结对共建成效明显"
    assert application.self_assessments.count() == 5
    assert {a.score for a in application.self_assessments.all()} == {Decimal("18")}
    files = list(application.attachments.order_by("pk"))
    assert [(f.original_name, f.content_type) for f in files] == [
        ("证明.png", "image/png"),
        ("方案.pdf", "application/pdf"),
    ]

    page = text(client.get(response["Location"]))
    assert "已提交" in page  # the success message and the status, in Chinese
    assert "台账齐全" in page and url("evaluation_attachment", files[0]) in page
    assert url("evaluation_application_edit", application) not in page  # read-only now
    served = client.get(url("evaluation_attachment", files[0]))
    assert served.status_code == 200 and served["Content-Type"] == "image/png"
    assert b"".join(served.streaming_content) == PNG

    listed = text(client.get(url("evaluation_programs")))
    assert url("evaluation_application", application) in listed
    assert url("evaluation_apply", program, tree.branch_a) not in listed  # applied already


def test_a_draft_is_saved_with_blanks_changed_then_submitted(tree, program, client_for):
    client = client_for("secretary_a")
    first = criteria_of(program, tree.branch_a)[0]
    data = form_data(program, tree.branch_a, action="save")
    data[f"score_{first.pk}"] = ""
    response = client.post(url("evaluation_apply", program, tree.branch_a), data)
    assert response.status_code == 302
    application = Application.objects.get()
    assert application.status == S.DRAFT
    assert application.self_assessments.get(criterion=first).score is None
    assert "草稿" in text(client.get(response["Location"]))

    edit = client.get(url("evaluation_application_edit", application))
    assert edit.status_code == 200
    assert 'value="18"' in text(edit)  # what was saved comes back

    # Submitting with a blank: the error stands next to the criterion, nothing changes.
    refused = client.post(
        url("evaluation_application_edit", application), data | {"action": "submit"}
    )
    assert refused.status_code == 200
    assert "提交前请填写自评分" in " ".join(refused.context["form"].errors[f"score_{first.pk}"])
    assert f'id="error_score_{first.pk}"' in text(refused)
    application.refresh_from_db()
    assert application.status == S.DRAFT

    done = client.post(
        url("evaluation_application_edit", application),
        form_data(program, tree.branch_a, points="19", attachments=[upload()]),
    )
    assert done.status_code == 302
    application.refresh_from_db()
    assert application.status == S.SUBMITTED and application.submitted_at
    assert {a.score for a in application.self_assessments.all()} == {Decimal("19")}
    assert application.attachments.count() == 1


def test_a_submitted_application_cannot_be_changed(tree, program, submitted, client_for):
    client = client_for("secretary_a")
    before = list(submitted.self_assessments.values_list("score", "evidence"))
    shown = client.get(url("evaluation_application_edit", submitted))
    assert shown.status_code == 302 and shown["Location"] == url(
        "evaluation_application", submitted
    )
    response = client.post(
        url("evaluation_application_edit", submitted),
        form_data(program, tree.branch_a, points="1", summary="改了"),
        follow=True,
    )
    assert "不能再修改" in text(response)
    submitted.refresh_from_db()
    assert submitted.summary != "改了"
    assert list(submitted.self_assessments.values_list("score", "evidence")) == before
    # A second application for the same organization: refused, nothing saved.
    again = client.post(
        url("evaluation_apply", program, tree.branch_a), form_data(program, tree.branch_a)
    )
    assert again.status_code == 200
    assert "已申报" in text(again)
    assert Application.objects.count() == 1
    assert client.get(url("evaluation_apply", program, tree.branch_a))["Location"] == url(
        "evaluation_application", submitted
    )


def test_a_secretary_withdraws_before_review_but_not_after(submitted, client_for, staff):
    client = client_for("secretary_a")
    page = text(client.get(url("evaluation_application", submitted)))
    assert url("evaluation_withdraw", submitted) in page
    response = client.post(url("evaluation_withdraw", submitted), follow=True)
    assert "申报已撤回" in text(response)
    submitted.refresh_from_db()
    assert submitted.status == S.WITHDRAWN
    assert url("evaluation_withdraw", submitted) not in text(response)


def test_no_withdrawal_once_under_review(reviewing, client_for):
    client = client_for("secretary_a")
    assert url("evaluation_withdraw", reviewing) not in text(
        client.get(url("evaluation_application", reviewing))
    )
    response = client.post(url("evaluation_withdraw", reviewing), follow=True)
    assert "评审中" in text(response)  # the service's refusal, in Chinese
    reviewing.refresh_from_db()
    assert reviewing.status == S.UNDER_REVIEW


# --- bad input ---------------------------------------------------------------------------------

BAD_SCORES = [
    "abc",
    "NaN",
    "Infinity",
    "-Infinity",
    "1e400",
    "99999999999",
    "25",
    "-1",
    "12.345",
    "２０",
]


@pytest.mark.parametrize("value", BAD_SCORES)
def test_a_bad_score_comes_back_in_chinese_next_to_its_field_and_nothing_is_saved(
    tree, program, client_for, value
):
    first = criteria_of(program, tree.branch_a)[0]
    data = form_data(program, tree.branch_a, attachments=[upload()])
    data[f"score_{first.pk}"] = value
    response = client_for("secretary_a").post(url("evaluation_apply", program, tree.branch_a), data)
    if value == "２０":  # full-width digits are digits: Decimal reads them, 20 is in range
        assert response.status_code == 302
        return
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "请输入 0 至 20 之间的分数" in " ".join(errors[f"score_{first.pk}"])
    html = text(response)
    assert "未保存任何内容" in html and "附件未保存，请重新选择" in html
    assert f'id="error_score_{first.pk}"' in html
    assert counts() == (0, 0, 0)


def test_a_nul_character_is_a_400_and_nothing_is_saved(tree, program, client_for):
    response = client_for("secretary_a").post(
        url("evaluation_apply", program, tree.branch_a),
        form_data(program, tree.branch_a, summary="概述\x00"),
    )
    assert response.status_code == 400
    assert counts() == (0, 0, 0)


def test_too_long_a_text_is_refused_in_chinese(tree, program, client_for):
    first = criteria_of(program, tree.branch_a)[0]
    data = form_data(program, tree.branch_a, summary="字" * 4001)
    data[f"evidence_{first.pk}"] = "证" * 2001
    response = client_for("secretary_a").post(url("evaluation_apply", program, tree.branch_a), data)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert set(errors) == {"summary", f"evidence_{first.pk}"}
    assert "4000" in " ".join(errors["summary"])
    assert counts() == (0, 0, 0)


@pytest.mark.parametrize(
    ("file", "message"),
    [
        (upload("virus.jpg", b"MZ\x90\x00 not a photo", "image/jpeg"), "PDF"),
        (upload("空.png", b"", "image/png"), "PDF"),
    ],
    ids=["not-a-photo", "empty"],
)
def test_a_bad_file_is_refused_in_chinese_and_nothing_is_saved(
    tree, program, client_for, file, message
):
    response = client_for("secretary_a").post(
        url("evaluation_apply", program, tree.branch_a),
        form_data(program, tree.branch_a, attachments=[upload(), file]),
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert message in " ".join(form.attachment_errors)
    html = text(response)
    assert 'id="error_attachments"' in html and "附件未保存，请重新选择" in html
    assert counts() == (0, 0, 0)


def test_a_file_too_large_is_refused(tree, program, client_for, settings):
    settings.ACTIVITY_ATTACHMENT_MAX_MB = 1
    big = upload("大.png", PNG + b"\x00" * (1024 * 1024))
    response = client_for("secretary_a").post(
        url("evaluation_apply", program, tree.branch_a),
        form_data(program, tree.branch_a, attachments=[big]),
    )
    assert response.status_code == 200
    assert "1 MB" in " ".join(response.context["form"].attachment_errors)
    assert counts() == (0, 0, 0)


def test_after_the_deadline_nothing_is_taken(tree, program, client_for):
    program.closes_on = today() - datetime.timedelta(days=1)
    program.save()
    client = client_for("secretary_a")
    shown = client.get(url("evaluation_apply", program, tree.branch_a))
    assert shown.status_code == 200 and "申报时间" in text(shown)
    response = client.post(
        url("evaluation_apply", program, tree.branch_a), form_data(program, tree.branch_a)
    )
    assert response.status_code == 200
    assert "未保存任何内容" in text(response)
    assert any("申报时间" in e for e in response.context["form"].non_field_errors())
    assert counts() == (0, 0, 0)
    listed = text(client.get(url("evaluation_programs")))
    assert "往期评选" in listed and url("evaluation_apply", program, tree.branch_a) not in listed


def test_an_organization_of_a_kind_the_program_does_not_take(tree, program, client_for):
    client = client_for("secretary_a")
    shown = client.get(url("evaluation_apply", program, tree.group_a))
    assert shown.status_code == 200 and "不接受党小组申报" in text(shown)
    response = client.post(url("evaluation_apply", program, tree.group_a), {"action": "save"})
    assert response.status_code == 200
    assert counts() == (0, 0, 0)


# --- scope and refusals ------------------------------------------------------------------------


def test_another_branchs_application_is_a_404(submitted, client_for, program, tree):
    client = client_for("secretary_b")
    attachment = ApplicationAttachment.objects.create(
        application=submitted,
        file=upload(),
        original_name="证明.png",
        content_type="image/png",
        size=len(PNG),
    )
    assert client.get(url("evaluation_application", submitted)).status_code == 404
    assert client.get(url("evaluation_application_edit", submitted)).status_code == 404
    assert client.post(url("evaluation_withdraw", submitted)).status_code == 404
    assert client.get(url("evaluation_attachment", attachment)).status_code == 404
    assert client.get(url("evaluation_apply", program, tree.branch_a)).status_code == 404
    assert client.get(url("evaluation_reviews")).status_code == 403  # secretaries do not review
    submitted.refresh_from_db()
    assert submitted.status == S.SUBMITTED


def test_inspectors_never_apply(tree, program, client_for):
    client = client_for("inspector_a")
    response = client.get(url("evaluation_apply", program, tree.branch_a))
    assert response.status_code == 403
    assert "您不能为这个党组织申报" in text(response)
    assert (
        client.post(
            url("evaluation_apply", program, tree.branch_a), form_data(program, tree.branch_a)
        ).status_code
        == 403
    )
    assert counts() == (0, 0, 0)
    assert url("evaluation_apply", program, tree.branch_a) not in text(
        client.get(url("evaluation_programs"))
    )


def test_an_inspector_does_not_see_drafts(tree, program, secretary_a, client_for):
    draft = services.save_application(secretary_a, full_marks(program, tree.branch_a))
    assert client_for("inspector_a").get(url("evaluation_application", draft)).status_code == 404


# --- reviewers ---------------------------------------------------------------------------------


def test_the_assigned_inspector_scores_with_the_evidence_beside_each_criterion(
    reviewing, client_for, inspector_a
):
    client = client_for("inspector_a")
    listed = client.get(url("evaluation_reviews"))
    assert listed.status_code == 200
    row = listed.context["page"].object_list[0]
    assert (row.pk, row.scored) == (reviewing.pk, False)
    assert "待评分" in text(listed)

    page = client.get(url("evaluation_application", reviewing))
    assert page.status_code == 200
    html = text(page)
    assert "平台数据" in html
    assert "上年度三会一课落实率" in html and "按期换届" in html
    assert "待整改问题功能上线后显示" in html  # no problems app yet
    assert "结对共建已对接" in html and "否" in html
    assert url("evaluation_score", reviewing) in html
    assert "评审中" in html and "实地考察" in html

    response = client.post(url("evaluation_score", reviewing), score_data(reviewing, "17"))
    assert response.status_code == 302
    assert response["Location"].endswith("#sheets")
    sheet = ReviewSheet.objects.get()
    assert (sheet.reviewer, sheet.total, sheet.stage) == (
        inspector_a,
        Decimal("85.00"),
        reviewing.stage,
    )
    assert sheet.scores.count() == 5
    after = client.get(response["Location"])
    assert "您在实地考察环节的评分已提交" in text(after)
    assert url("evaluation_score", reviewing) not in text(after)  # once per stage
    assert client.get(url("evaluation_reviews")).context["page"].object_list[0].scored

    again = client.post(url("evaluation_score", reviewing), score_data(reviewing, "10"))
    assert again.status_code == 200
    assert "您已在本环节为这份申报评过分" in text(again)
    assert ReviewSheet.objects.count() == 1


def test_an_unassigned_inspector_gets_a_404_and_a_secretary_a_403(reviewing, client_for):
    city = client_for("inspector_city")
    assert city.get(url("evaluation_application", reviewing)).status_code == 404
    assert city.post(url("evaluation_score", reviewing), score_data(reviewing)).status_code == 404
    assert city.get(url("evaluation_reviews")).context["page"].paginator.count == 0
    secretary = client_for("secretary_a")
    assert (
        secretary.post(url("evaluation_score", reviewing), score_data(reviewing)).status_code == 403
    )
    page = text(secretary.get(url("evaluation_application", reviewing)))
    assert url("evaluation_score", reviewing) not in page and "平台数据" not in page
    assert not ReviewSheet.objects.exists()


def test_a_score_out_of_range_is_refused_in_chinese_next_to_its_field(reviewing, client_for):
    first = criteria_of(reviewing.program, reviewing.organization)[0]
    for value in ("21", "abc", "NaN", "1e400", ""):
        response = client_for("inspector_a").post(
            url("evaluation_score", reviewing),
            score_data(reviewing, **{f"score_{first.pk}": value}),
        )
        assert response.status_code == 200
        errors = response.context["score_form"].errors[f"score_{first.pk}"]
        assert ("请输入 0 至 20" in " ".join(errors)) or ("请打分" in " ".join(errors))
        assert "评分未保存" in text(response)
        assert f'id="error_score_{first.pk}"' in text(response)
    assert not ReviewSheet.objects.exists()


def test_a_reviewer_of_the_organization_is_told_in_chinese_and_nothing_saved(
    tree, program, reviewing, client_for
):
    own = User.objects.create_user(
        username="reviewer_a1",
        password="x-123456789",
        role=Role.INSPECTOR,
        organization=tree.committee_a,  # above branch_a
    )
    program.reviewers.add(own)
    client = client_for("anonymous")
    client.force_login(own)
    page = text(client.get(url("evaluation_application", reviewing)))
    assert "不能为其评分（回避）" in page
    assert url("evaluation_score", reviewing) not in page  # no form offered
    response = client.post(url("evaluation_score", reviewing), score_data(reviewing))
    assert response.status_code == 200
    assert "评分未保存" in text(response)
    message = " ".join(response.context["score_form"].non_field_errors())
    assert tree.branch_a.name in message and "不能为其评分（回避）" in message
    assert not ReviewSheet.objects.exists()


def test_the_other_reviewers_scores_are_hidden_until_ones_own_is_in(reviewing, client_for, staff):
    services.submit_sheet(staff, reviewing, scores_for(reviewing, "19"))
    client = client_for("inspector_a")
    before = client.get(url("evaluation_application", reviewing))
    assert before.context["sheets"] == []
    assert "提交您本环节的评分后，才显示其他评审人员的评分" in text(before)
    assert "95" not in text(before).split('id="sheets"')[1]
    client.post(url("evaluation_score", reviewing), score_data(reviewing, "17"))
    after = client.get(url("evaluation_application", reviewing))
    assert len(after.context["sheets"]) == 2
    section = text(after).split('id="sheets"')[1]
    assert "95" in section and "85" in section


def test_staff_see_the_stage_results(reviewing, client_for, staff, inspector_a):
    services.submit_sheet(staff, reviewing, scores_for(reviewing, "19"))
    services.submit_sheet(inspector_a, reviewing, scores_for(reviewing, "17"))
    response = client_for("staff").get(url("evaluation_application", reviewing))
    stages = response.context["stages"]
    assert [s["result"] for s in stages] == [Decimal("90.00"), None, None, None]
    assert "各环节评审结果" in text(response)
    assert (
        "stages"
        not in client_for("inspector_a").get(url("evaluation_application", reviewing)).context
    )


def test_the_review_list_filters_and_ignores_bad_values(reviewing, client_for, program):
    client = client_for("inspector_a")
    for query in ({"program": program.pk}, {"program": "x", "status": "nope", "page": "-1"}):
        response = client.get(url("evaluation_reviews"), query)
        assert response.status_code == 200
        assert response.context["page"].paginator.count == 1
    none = client.get(url("evaluation_reviews"), {"status": "awarded"})
    assert none.context["page"].paginator.count == 0


# --- the honour roll and re-reviews ------------------------------------------------------------


def _title(program, organization, valid_until=None, status=DesignationStatus.CURRENT):
    fields = {}
    if status == DesignationStatus.REVOKED:
        fields = {"revoked_on": today(), "revoke_reason": "组织生活不规范"}
    return Designation.objects.create(
        program=program,
        organization=organization,
        title=program.title,
        awarded_on=D(2025, 12, 1),
        valid_until=valid_until or D(2028, 12, 1),
        status=status,
        **fields,
    )


def test_the_honour_roll_counts_current_titles_by_kind(tree, program, client_for):
    five_star = Program.objects.create(
        name="五星党支部",
        kind=ProgramKind.FIVE_STAR,
        year=2025,
        opens_on=D(2025, 1, 1),
        closes_on=D(2025, 2, 1),
        title="五星达标党支部",
    )
    _title(program, tree.committee_a)
    _title(program, tree.general_b)
    _title(program, tree.branch_a)
    _title(program, tree.branch_b)
    _title(program, tree.branch_a2, status=DesignationStatus.REVOKED)
    _title(five_star, tree.branch_a)
    response = client_for("secretary_b").get(url("evaluation_honours"))
    assert response.status_code == 200
    counts = {c["kind"]: c for c in response.context["counts"]}
    assert counts["demonstration_site"]["text"] == "1 个党委、1 个党总支、2 个党支部"
    assert counts["demonstration_site"]["total"] == 4
    assert counts["five_star"]["text"] == "1 个党支部"
    html = text(response)
    assert "1 个党委、1 个党总支、2 个党支部" in html
    assert tree.branch_b.name in html and tree.branch_a2.name not in html  # revoked: off it
    assert response.context["page"].paginator.count == 5
    only = client_for("inspector_city").get(url("evaluation_honours"), {"kind": "five_star"})
    assert only.context["page"].paginator.count == 1
    assert client_for("staff").get(url("evaluation_honours"), {"kind": "<x>"}).status_code == 200


def test_titles_due_for_re_review_in_the_inspectors_scope(tree, program, client_for):
    due_a = _title(program, tree.branch_a, valid_until=today() + datetime.timedelta(days=10))
    due_b = _title(program, tree.branch_b, valid_until=today() - datetime.timedelta(days=1))
    _title(program, tree.branch_a2)  # years to go
    staff = client_for("staff").get(url("evaluation_re_reviews"))
    assert [t.pk for t in staff.context["page"].object_list] == [due_b.pk, due_a.pk]
    assert "已逾期" in text(staff)
    inspector = client_for("inspector_a").get(url("evaluation_re_reviews"))
    assert [t.pk for t in inspector.context["page"].object_list] == [due_a.pk]
    assert client_for("secretary_a").get(url("evaluation_re_reviews")).status_code == 403


# --- query counts ------------------------------------------------------------------------------


def _many_applications(tree, program, staff, n) -> list[Application]:
    """n organizations (branches under committee_a) nominated, half under review."""
    from branches.models import Organization, OrganizationKind

    made = []
    for i in range(n):
        organization = Organization.objects.create(
            code=f"A-{n}-{i}",
            name=f"统计局测试党支部{n}-{i}",
            kind=OrganizationKind.BRANCH,
            unit=tree.unit_a,
            parent=tree.committee_a,
        )
        application = services.nominate(staff, program, organization)
        if i % 2:
            application = services.start_review(staff, application)
        made.append(application)
    return made


def _programs(n):
    for i in range(n):
        Program.objects.create(
            name=f"往期评选{n}-{i}",
            kind=ProgramKind.BRAND,
            year=2020,
            opens_on=D(2020, 1, 1),
            closes_on=D(2020, 2, 1),
            title="品牌",
        )


LISTS = ["evaluation_programs", "evaluation_reviews", "evaluation_honours", "evaluation_re_reviews"]
LIST_CASES = [
    *[(role, name) for role in ("staff", "inspector_a", "inspector_city") for name in LISTS],
    # Secretaries open two of them; committee_a's secretary sees the new branches' applications.
    *[
        (role, name)
        for role in ("secretary_a", "secretary_committee")
        for name in ("evaluation_programs", "evaluation_honours")
    ],
]


@pytest.mark.parametrize(("role", "name"), LIST_CASES)
def test_every_list_costs_the_same_queries_for_few_or_many(
    tree, program, staff, client_for, role, name
):
    if role == "secretary_committee":
        client = client_for("anonymous")
        client.force_login(
            User.objects.create_user(
                username="sec_committee_a",
                password="x-123456789",
                role=Role.SECRETARY,
                organization=tree.committee_a,
            )
        )
    else:
        client = client_for(role)
    used = []
    for n in (3, 25):
        _many_applications(tree, program, staff, n)
        _programs(n)
        for application in Application.objects.filter(status=S.UNDER_REVIEW)[:n]:
            if not Designation.objects.filter(organization=application.organization).exists():
                _title(program, application.organization, valid_until=today())
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url(name)).status_code == 200
        used.append(len(queries))
    assert used[0] == used[1], used


@pytest.mark.parametrize("role", ["staff", "secretary_a", "inspector_a"])
def test_the_application_page_costs_the_same_queries_for_5_or_25_criteria(
    tree, program, submitted, staff, client_for, role, inspector_a
):
    application = services.start_review(staff, submitted)
    services.submit_sheet(staff, application, scores_for(application, "19"))
    services.submit_sheet(inspector_a, application, scores_for(application, "17"))
    client = client_for(role)
    used = []
    for extra in (0, 20):
        for i in range(extra):
            criterion = Criterion.objects.create(
                program=program,
                organization_kind="branch",
                name=f"附加标准{i}",
                max_score=Decimal("5"),
                measure="activity_share" if i % 2 else "",
                sort_order=10 + i,
            )
            SelfAssessment.objects.create(application=application, criterion=criterion, score=3)
            ApplicationAttachment.objects.create(
                application=application,
                file=upload(),
                original_name=f"{i}.png",
                content_type="image/png",
                size=len(PNG),
            )
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url("evaluation_application", application))
        assert response.status_code == 200
        assert len(response.context["rows"]) == 5 + extra
        used.append(len(queries))
    assert used[0] == used[1], used


def test_the_pages_read_in_english_too(tree, program, reviewing, client_for):
    _title(program, tree.branch_b)
    client = client_for("staff")
    for address in (
        url("evaluation_programs"),
        url("evaluation_honours"),
        url("evaluation_reviews"),
        url("evaluation_re_reviews"),
        url("evaluation_application", reviewing),
        url("evaluation_apply", program, tree.branch_a2),
    ):
        response = client.get(address, language="en")
        assert response.status_code == 200, address
        assert "评选表彰" not in text(response)  # the nav link in English
    honours = client.get(url("evaluation_honours"), language="en")
    assert honours.context["counts"][0]["text"] == "Party branch: 1"
