"""The evaluations API: programs read by everyone; an application from draft to award through
the API (multipart attachments, reviewers' sheets, stages, the decision, re-reviews); scope per
role; Chinese 400s with nothing half-saved; lists in a constant number of queries."""

from __future__ import annotations

import datetime
import json
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role, User
from evaluations import services
from evaluations.defaults import seed_program
from evaluations.models import (
    Application,
    ApplicationAttachment,
    ApplicationStatus,
    Criterion,
    Designation,
    Program,
    ProgramKind,
    ReReview,
    ReviewSheet,
    Score,
    SelfAssessment,
    Stage,
)
from evaluations.services import ScoreInput
from tests.conftest import Client
from tests.evaluations.conftest import full_marks

# The standing cast, built once for the module (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("module_cast")

S = ApplicationStatus
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
NUL_MESSAGE = "不允许包含空字符（NUL）。"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def today() -> datetime.date:
    return timezone.localdate()


def post(client, name, data, *args):
    return client.post(reverse(name, args=args), json.dumps(data), content_type="application/json")


def patch(client, name, data, *args):
    return client.patch(reverse(name, args=args), json.dumps(data), content_type="application/json")


def criteria_of(program, kind="branch") -> list[Criterion]:
    return list(
        Criterion.objects.filter(program=program, organization_kind=kind).order_by(
            "sort_order", "pk"
        )
    )


def assessments(program, points="18", kind="branch") -> list[dict]:
    return [
        {"criterion": c.pk, "score": points, "evidence": "台账齐全"}
        for c in criteria_of(program, kind)
    ]


def sheet_body(application, points="18") -> dict:
    return {
        "scores": [
            {"criterion": c.pk, "score": points, "comment": "良好"}
            for c in criteria_of(application.program, application.organization.kind)
        ]
    }


def scores_for(application, points="18") -> list[ScoreInput]:
    return [
        ScoreInput(c.pk, Decimal(points), "")
        for c in criteria_of(application.program, application.organization.kind)
    ]


def saved() -> tuple[int, int, int, int]:
    return (
        Application.objects.count(),
        SelfAssessment.objects.count(),
        ApplicationAttachment.objects.count(),
        ReviewSheet.objects.count(),
    )


@pytest.fixture
def submitted(tree, program, secretary_a):
    """branch_a's application to the program, submitted."""
    application = services.save_application(secretary_a, full_marks(program, tree.branch_a))
    return services.submit_application(secretary_a, application)


@pytest.fixture
def in_review(submitted, staff):
    return services.start_review(staff, submitted)


# --- programs -----------------------------------------------------------------------------------


def test_programs_are_read_by_everyone_with_their_stages_and_criteria(program, client_for):
    closed = Program.objects.create(
        name="2025年度五星支部",
        kind=ProgramKind.FIVE_STAR,
        year=today().year - 1,
        opens_on=today() - datetime.timedelta(days=400),
        closes_on=today() - datetime.timedelta(days=300),
        title="五星党支部",
    )
    for role in ("staff", "secretary_b", "inspector_city"):
        response = client_for(role).get(reverse("evaluation-program-detail", args=[program.pk]))
        assert response.status_code == 200, role
    data = response.json()
    assert (data["kind"], data["kind_display"], data["year"]) == (
        "demonstration_site",
        "示范点",
        today().year,
    )
    assert data["open_now"] is True and data["quota"] == {"branch": 2}
    assert data["opens_on"] == program.opens_on.isoformat()
    assert data["title"] == "市级机关基层党建工作示范点"
    assert [s["name"] for s in data["stages"]] == ["实地考察", "集体评审", "互比互评", "现场考核"]
    assert data["stages"][0]["pass_threshold"] == "60.00"
    branch = [c for c in data["criteria"] if c["organization_kind"] == "branch"]
    assert [c["name"] for c in branch] == [
        "支部班子好",
        "党员队伍好",
        "工作机制好",
        "工作业绩好",
        "群众反映好",
    ]
    assert (branch[0]["max_score"], branch[0]["weight"], branch[0]["measure"]) == (
        "20.00",
        "1.00",
        "election_on_time",
    )
    assert {c["organization_kind"] for c in data["criteria"]} == {
        "committee",
        "general_branch",
        "branch",
    }
    client = client_for("secretary_a")

    def ids(**params):
        response = client.get(reverse("evaluation-program-list"), params)
        assert response.status_code == 200, response.content
        return [p["id"] for p in response.json()["results"]]

    assert ids() == [program.pk, closed.pk]
    assert ids(open="true") == [program.pk]
    assert ids(open="false") == [closed.pk]
    assert ids(kind="five_star") == [closed.pk]
    assert ids(year=today().year) == [program.pk]
    for params in ({"open": ""}, {"kind": "castle"}, {"year": "2026.0"}, {"year": "99999"}):
        response = client.get(reverse("evaluation-program-list"), params)
        assert response.status_code == 400, params
    assert client_for("anonymous").get(reverse("evaluation-program-list")).status_code == 403


# --- the whole cycle --------------------------------------------------------------------------


def test_draft_to_award_and_re_review_through_the_api(tree, program, client_for):
    secretary, staff, reviewer = (
        client_for("secretary_a"),
        client_for("staff"),
        client_for("inspector_a"),
    )
    # A draft with a photo, in multipart: the self-assessment as a JSON list.
    marks = assessments(program, "18")
    made = secretary.post(
        reverse("evaluation-application-list"),
        {
            "program": program.pk,
            "organization": tree.branch_a.pk,
            "summary": "三会一课规范",
            "assessments": json.dumps(marks[:4]),
            "new_attachments": [SimpleUploadedFile("证明.png", PNG, content_type="image/png")],
        },
    )
    assert made.status_code == 201, made.content
    draft = made.json()
    pk = draft["id"]
    assert (draft["status"], draft["status_display"], draft["stage"]) == ("draft", "草稿", None)
    assert (draft["organization_name"], draft["program_kind"]) == (
        "统计局第一党支部",
        "demonstration_site",
    )
    assert [a["score"] for a in draft["self_assessments"]] == ["18.00"] * 4
    assert draft["self_assessments"][0]["criterion_name"] == "支部班子好"
    assert draft["stage_results"] is None and draft["evidence"] is None  # not a reviewer
    (photo,) = draft["attachments"]
    assert (photo["name"], photo["content_type"], photo["size"]) == ("证明.png", "image/png", 72)
    download = secretary.get(photo["url"])
    assert download.status_code == 200 and download["Content-Type"] == "image/png"
    assert b"".join(download.streaming_content) == PNG
    # Submitting needs every criterion self-assessed.
    refused = post(secretary, "evaluation-application-submit", {}, pk)
    assert refused.status_code == 400
    assert "自评分" in refused.json()["non_field_errors"][0]
    changed = patch(
        secretary,
        "evaluation-application-detail",
        {"assessments": [{**marks[4], "score": "19.5"}]},
        pk,
    )
    assert changed.status_code == 200, changed.content
    assert changed.json()["summary"] == "三会一课规范"  # not sent: kept
    assert [a["score"] for a in changed.json()["self_assessments"]][-1] == "19.50"
    # A draft is the applicant's business: the reviewer does not see it yet.
    assert reviewer.get(reverse("evaluation-application-detail", args=[pk])).status_code == 404
    submitted = post(secretary, "evaluation-application-submit", {}, pk)
    assert submitted.status_code == 200, submitted.content
    assert submitted.json()["status"] == "submitted" and submitted.json()["submitted_at"]
    assert patch(secretary, "evaluation-application-detail", {"summary": "x"}, pk).json() == {
        "status": ["申报已提交，不能再修改；如允许，请先撤回。"]
    }
    # The reviewer reads it with the portal's evidence and the photo.
    seen = reviewer.get(reverse("evaluation-application-detail", args=[pk])).json()
    assert set(seen["evidence"]) == {
        "activity_share",
        "election_on_time",
        "no_open_problems",
        "pairing_docked",
    }
    assert seen["evidence"]["pairing_docked"] is False
    assert [r["result"] for r in seen["stage_results"]] == [None] * 4
    assert reviewer.get(photo["url"]).status_code == 200
    # Staff start the review; every stage is scored by two reviewers and closed.
    started = post(staff, "evaluation-application-start-review", {}, pk)
    assert started.status_code == 200, started.content
    assert (started.json()["status"], started.json()["stage_order"]) == ("under_review", 1)
    application = Application.objects.get(pk=pk)
    for order in (1, 2, 3, 4):
        mine = post(reviewer, "evaluation-application-sheets", sheet_body(application, "17"), pk)
        assert mine.status_code == 201, mine.content
        assert (mine.json()["total"], mine.json()["stage_order"]) == ("85.00", order)
        assert mine.json()["reviewer_name"] == "insp_a"
        theirs = post(staff, "evaluation-application-sheets", sheet_body(application, "19"), pk)
        assert theirs.status_code == 201, theirs.content
        closed = post(staff, "evaluation-application-close-stage", {}, pk)
        assert closed.status_code == 200, closed.content
        assert closed.json()["status"] == "under_review"
        assert closed.json()["stage_order"] == min(order + 1, 4)
    results = reviewer.get(reverse("evaluation-application-detail", args=[pk])).json()
    assert [r["result"] for r in results["stage_results"]] == ["90.00"] * 4
    assert [r["current"] for r in results["stage_results"]] == [False, False, False, True]
    awarded = post(staff, "evaluation-application-decide", {"award": True}, pk)
    assert awarded.status_code == 200, awarded.content
    assert awarded.json()["status"] == "awarded" and awarded.json()["designation"]
    title_pk = awarded.json()["designation"]
    # The title: in the secretary's list, on the honour roll.
    titles = secretary.get(reverse("evaluation-designation-list")).json()["results"]
    assert [t["id"] for t in titles] == [title_pk]
    title = titles[0]
    assert (title["status"], title["title"], title["awarded_on"]) == (
        "current",
        "市级机关基层党建工作示范点",
        today().isoformat(),
    )
    assert title["re_reviews"] == [] and title["due_for_re_review"] is False
    roll = client_for("secretary_b").get(reverse("evaluation-honour-roll-list")).json()
    assert roll["total"] == 1
    assert roll["counts"] == [
        {
            "program_kind": "demonstration_site",
            "program_kind_display": "示范点",
            "organization_kind": "branch",
            "organization_kind_display": "党支部",
            "count": 1,
        }
    ]
    # Re-review: kept for another term, then revoked with a reason; the title stays.
    kept = post(
        staff,
        "evaluation-designation-re-review",
        {"outcome": "kept", "reason": "复查合格"},
        title_pk,
    )
    assert kept.status_code == 200, kept.content
    assert kept.json()["valid_until"] > title["valid_until"]
    revoked = post(
        staff,
        "evaluation-designation-re-review",
        {"outcome": "revoked", "reason": "组织生活不规范"},
        title_pk,
    )
    assert revoked.status_code == 200, revoked.content
    data = revoked.json()
    assert (data["status"], data["revoke_reason"], data["revoked_on"]) == (
        "revoked",
        "组织生活不规范",
        today().isoformat(),
    )
    assert [r["outcome"] for r in data["re_reviews"]] == ["revoked", "kept"]
    assert data["re_reviews"][0]["decided_by_name"] == "staff"
    again = post(
        staff, "evaluation-designation-re-review", {"outcome": "kept", "reason": "x"}, title_pk
    )
    assert again.status_code == 400 and "已被撤销" in again.json()["non_field_errors"][0]
    history = secretary.get(reverse("evaluation-designation-list"), {"status": "revoked"})
    assert [t["id"] for t in history.json()["results"]] == [title_pk]
    assert (
        secretary.get(reverse("evaluation-designation-list"), {"status": "current"}).json()["count"]
        == 0
    )
    assert client_for("staff").get(reverse("evaluation-honour-roll-list")).json()["total"] == 0
    assert ReReview.objects.filter(designation_id=title_pk).count() == 2


def test_multipart_takes_drf_style_nested_assessments(tree, program, client_for):
    (first, second, *_rest) = criteria_of(program)
    response = client_for("secretary_a").post(
        reverse("evaluation-application-list"),
        {
            "program": program.pk,
            "organization": tree.branch_a.pk,
            "assessments[0]criterion": first.pk,
            "assessments[0]score": "15",
            "assessments[1]criterion": second.pk,
            "assessments[1]score": "16.5",
            "assessments[1]evidence": "会议记录",
        },
    )
    assert response.status_code == 201, response.content
    found = response.json()["self_assessments"]
    assert [(a["criterion"], a["score"], a["evidence"]) for a in found] == [
        (first.pk, "15.00", ""),
        (second.pk, "16.50", "会议记录"),
    ]


def test_withdrawing_and_nominating(tree, program, submitted, client_for):
    secretary, staff = client_for("secretary_a"), client_for("staff")
    withdrawn = post(secretary, "evaluation-application-withdraw", {}, submitted.pk)
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    again = post(secretary, "evaluation-application-withdraw", {}, submitted.pk)
    assert again.status_code == 400 and "已撤回" in again.json()["non_field_errors"][0]
    nominated = post(
        staff,
        "evaluation-application-nominate",
        {"program": program.pk, "organization": tree.branch_a2.pk, "summary": "推荐"},
    )
    assert nominated.status_code == 201, nominated.content
    assert (nominated.json()["status"], nominated.json()["nominated"]) == ("submitted", True)
    assert nominated.json()["self_assessments"] == []
    twice = post(
        staff,
        "evaluation-application-nominate",
        {"program": program.pk, "organization": tree.branch_a2.pk},
    )
    assert twice.status_code == 400 and "已申报" in twice.json()["non_field_errors"][0]
    group = post(
        staff,
        "evaluation-application-nominate",
        {"program": program.pk, "organization": tree.group_a.pk},
    )
    assert group.status_code == 400 and "不接受" in group.json()["non_field_errors"][0]
    listed = staff.get(reverse("evaluation-application-list"), {"nominated": "true"}).json()
    assert [a["id"] for a in listed["results"]] == [nominated.json()["id"]]


def test_failing_a_stage_and_the_quota(tree, program, in_review, client_for, staff, inspector_a):
    client = client_for("staff")
    assert post(client, "evaluation-application-close-stage", {}, in_review.pk).json() == {
        "non_field_errors": ["本环节还没有评审人评分。"]
    }
    early = post(client, "evaluation-application-decide", {"award": True}, in_review.pk)
    assert early.json() == {"non_field_errors": ["申报尚未通过全部评审环节。"]}
    services.submit_sheet(inspector_a, in_review, scores_for(in_review, "8"))
    failed = post(client, "evaluation-application-close-stage", {}, in_review.pk)
    assert failed.status_code == 200
    assert (failed.json()["status"], failed.json()["decided_at"] is not None) == (
        "not_awarded",
        True,
    )
    # The quota: one branch title at most.
    program.quota = {"branch": 1}
    program.save()
    Designation.objects.create(
        program=program,
        organization=tree.branch_a2,
        title=program.title,
        awarded_on=today(),
        valid_until=today() + datetime.timedelta(days=1000),
    )
    other = services.start_review(staff, services.nominate(staff, program, tree.branch_b))
    for _ in range(4):
        services.submit_sheet(inspector_a, other, scores_for(other, "18"))
        other = services.close_stage(staff, other)
    full = post(client, "evaluation-application-decide", {"award": True}, other.pk)
    assert full.status_code == 400 and "名额已用完" in full.json()["non_field_errors"][0]
    assert Application.objects.get(pk=other.pk).status == S.UNDER_REVIEW
    assert post(client, "evaluation-application-decide", {"award": "maybe"}, other.pk).json()[
        "award"
    ]


# --- sheets: others' only after one's own -------------------------------------------------------


def test_a_reviewer_sees_the_others_sheets_and_the_result_only_after_their_own(
    in_review, client_for, staff
):
    services.submit_sheet(staff, in_review, scores_for(in_review, "19"))
    reviewer = client_for("inspector_a")
    url = reverse("evaluation-application-sheets", args=[in_review.pk])
    assert reviewer.get(url).json() == []
    seen = reviewer.get(reverse("evaluation-application-detail", args=[in_review.pk])).json()
    assert seen["stage_results"][0]["result"] is None and seen["stage_results"][0]["current"]
    staff_view = client_for("staff").get(
        reverse("evaluation-application-detail", args=[in_review.pk])
    )
    assert staff_view.json()["stage_results"][0]["result"] == "95.00"
    mine = post(
        reviewer, "evaluation-application-sheets", sheet_body(in_review, "17"), in_review.pk
    )
    assert mine.status_code == 201, mine.content
    sheets = reviewer.get(url).json()
    assert sorted(s["total"] for s in sheets) == ["85.00", "95.00"]
    assert {len(s["scores"]) for s in sheets} == {5}
    assert sheets[0]["scores"][0]["criterion_name"] == "支部班子好"
    seen = reviewer.get(reverse("evaluation-application-detail", args=[in_review.pk])).json()
    assert seen["stage_results"][0]["result"] == "90.00"
    # Secretaries read no sheets.
    assert client_for("secretary_a").get(url).status_code == 403


def test_the_stage_sent_must_be_the_current_one(in_review, client_for):
    first, second = in_review.program.stages.order_by("order")[:2]
    client = client_for("inspector_a")
    body = sheet_body(in_review)
    wrong = post(
        client, "evaluation-application-sheets", {**body, "stage": second.pk}, in_review.pk
    )
    assert wrong.json() == {"stage": ["申报状态已变化，请刷新后再试。"]}
    right = post(client, "evaluation-application-sheets", {**body, "stage": first.pk}, in_review.pk)
    assert right.status_code == 201, right.content


# --- scope per role -----------------------------------------------------------------------------


def test_scope_of_applications_per_role(tree, program, submitted, client_for, secretary_b):
    draft_b = services.save_application(secretary_b, full_marks(program, tree.branch_b))

    def ids(role):
        response = client_for(role).get(reverse("evaluation-application-list"))
        assert response.status_code == 200, response.content
        return sorted(a["id"] for a in response.json()["results"])

    assert ids("staff") == sorted([submitted.pk, draft_b.pk])
    assert ids("secretary_a") == [submitted.pk]
    assert ids("secretary_b") == [draft_b.pk]
    assert ids("inspector_a") == [submitted.pk]  # assigned; the draft is not theirs to see
    assert ids("inspector_city") == []  # not assigned to the program
    for role, pk in [
        ("secretary_b", submitted.pk),
        ("secretary_a", draft_b.pk),
        ("inspector_a", draft_b.pk),
        ("inspector_city", submitted.pk),
    ]:
        response = client_for(role).get(reverse("evaluation-application-detail", args=[pk]))
        assert response.status_code == 404, (role, pk)
    # Filters never widen the scope.
    for params in ({"organization": tree.branch_b.pk}, {"unit": tree.unit_b.pk}):
        response = client_for("secretary_a").get(reverse("evaluation-application-list"), params)
        assert response.json()["count"] == 0
    staff = client_for("staff")
    assert (
        staff.get(reverse("evaluation-application-list"), {"unit": tree.unit_b.pk}).json()["count"]
        == 1
    )
    assert (
        staff.get(
            reverse("evaluation-application-list"), {"status": "draft", "program": program.pk}
        ).json()["results"][0]["id"]
        == draft_b.pk
    )


@pytest.mark.parametrize("role", ["inspector_a", "inspector_city"])
def test_inspectors_never_write_applications(tree, program, submitted, client_for, role):
    client = client_for(role)
    body = {"program": program.pk, "organization": tree.branch_a2.pk}
    writes = [
        client.post(reverse("evaluation-application-list"), body, content_type="application/json"),
        patch(client, "evaluation-application-detail", {"summary": "x"}, submitted.pk),
        post(client, "evaluation-application-submit", {}, submitted.pk),
        post(client, "evaluation-application-withdraw", {}, submitted.pk),
        post(client, "evaluation-application-nominate", body),
        post(client, "evaluation-application-start-review", {}, submitted.pk),
        post(client, "evaluation-application-decide", {"award": True}, submitted.pk),
    ]
    assert [w.status_code for w in writes] == [403] * len(writes)
    assert Application.objects.get().status == S.SUBMITTED and Application.objects.count() == 1


def test_designations_follow_the_organization_scope(tree, program, client_for):
    titles = {
        side: Designation.objects.create(
            program=program,
            organization=branch,
            title=program.title,
            awarded_on=today() - datetime.timedelta(days=1080),
            valid_until=today() + datetime.timedelta(days=days),
        )
        for side, branch, days in [("a", tree.branch_a, 10), ("b", tree.branch_b, 400)]
    }

    def ids(role, **params):
        response = client_for(role).get(reverse("evaluation-designation-list"), params)
        assert response.status_code == 200, response.content
        return sorted(t["id"] for t in response.json()["results"])

    a, b = titles["a"].pk, titles["b"].pk
    assert ids("staff") == sorted([a, b]) and ids("inspector_city") == sorted([a, b])
    assert ids("secretary_a") == [a] and ids("inspector_a") == [a] and ids("secretary_b") == [b]
    assert ids("staff", due="true") == [a]
    assert ids("staff", due="false") == [b]
    assert ids("staff", program=program.pk, organization_kind="branch") == sorted([a, b])
    assert ids("staff", kind="five_star") == []
    assert ids("staff", unit=tree.unit_b.pk) == [b]
    assert ids("secretary_a", organization=tree.branch_b.pk) == []
    detail = client_for("staff").get(reverse("evaluation-designation-detail", args=[a])).json()
    assert detail["due_for_re_review"] is True and detail["unit_name"] == "市统计局"
    assert (
        client_for("secretary_a")
        .get(reverse("evaluation-designation-detail", args=[b]))
        .status_code
        == 404
    )
    # The honour roll is the whole city's, for everybody.
    for role in ("secretary_a", "inspector_a"):
        roll = client_for(role).get(reverse("evaluation-honour-roll-list")).json()
        assert roll["total"] == 2 and roll["counts"][0]["count"] == 2
    assert (
        client_for("staff")
        .get(reverse("evaluation-honour-roll-list"), {"year": today().year - 1})
        .json()["total"]
        == 0
    )
    assert (
        client_for("staff")
        .get(reverse("evaluation-honour-roll-list"), {"program": program.pk})
        .json()["total"]
        == 2
    )


# --- bad input: Chinese 400s, nothing saved ------------------------------------------------------


def application_body(tree, program, /, **extra) -> dict:
    data = {
        "program": program.pk,
        "organization": tree.branch_a.pk,
        "summary": "三会一课规范",
        "assessments": assessments(program),
    }
    data.update(extra)
    return data


@pytest.mark.parametrize(
    ("extra", "field", "words"),
    [
        ({"program": 987654}, "program", "对象不存在"),
        ({"program": 2**70}, "program", "对象不存在"),
        ({"program": "-99999999999999999999"}, "program", "对象不存在"),
        ({"program": 1.5}, "program", "类型错误"),
        ({"organization": "branch_b"}, "organization", "对象不存在"),
        ({"organization": "group_a"}, "program", "不接受"),
        ({"assessments": [{"criterion": 2**70, "score": "1"}]}, "assessments", "小于或者等于"),
        ({"assessments": [{"criterion": "other", "score": "1"}]}, "assessments", "不是本项目"),
        ({"assessments": "twice"}, "assessments", "多次"),
        ({"assessments": [{"criterion": "first", "score": "25"}]}, "assessments", "0到20"),
        ({"assessments": [{"criterion": "first", "score": "-1"}]}, "assessments", "大于或者等于"),
        ({"assessments": [{"criterion": "first", "score": "abc"}]}, "assessments", "合法的数字"),
        ({"assessments": [{"criterion": "first", "score": "NaN"}]}, "assessments", "合法的数字"),
        ({"assessments": [{"criterion": "first", "score": "1e30"}]}, "assessments", "不超过"),
        ({"assessments": [{"criterion": "first", "score": "1.005"}]}, "assessments", "2"),
        ({"assessments": {"criterion": 1}}, "assessments", "列表"),
        ({"summary": "x" * 5001}, "summary", "5000"),
    ],
)
def test_bad_applications_are_chinese_400s_and_nothing_is_saved(
    tree, program, client_for, extra, field, words
):
    other = Program.objects.create(
        name="另一项目",
        kind=ProgramKind.BRAND,
        year=program.year,
        opens_on=program.opens_on,
        closes_on=program.closes_on,
        title="党建品牌",
    )
    seed_program(other, Criterion, Stage)
    first = criteria_of(program)[0]
    replace = {
        "branch_b": tree.branch_b.pk,
        "group_a": tree.group_a.pk,
        "other": criteria_of(other)[0].pk,
        "first": first.pk,
    }
    if extra.get("organization") in replace:
        extra = {**extra, "organization": replace[extra["organization"]]}
    if extra.get("assessments") == "twice":
        extra = {"assessments": [{"criterion": first.pk, "score": "1"}] * 2}
    elif isinstance(extra.get("assessments"), list):
        extra = {
            "assessments": [
                {**a, "criterion": replace.get(a["criterion"], a["criterion"])}
                for a in extra["assessments"]
            ]
        }
    response = post(
        client_for("secretary_a"),
        "evaluation-application-list",
        application_body(tree, program, **extra),
    )
    assert response.status_code == 400, response.content
    errors = response.json()
    assert words in json.dumps(errors[field], ensure_ascii=False), errors
    assert "水务局" not in response.content.decode()  # nothing of another branch is named
    assert saved() == (0, 0, 0, 0)


def test_a_bad_field_in_a_multipart_application_saves_no_file(tree, program, client_for, settings):
    response = client_for("secretary_a").post(
        reverse("evaluation-application-list"),
        {
            "program": program.pk,
            "organization": tree.branch_a.pk,
            "assessments": json.dumps([{"criterion": criteria_of(program)[0].pk, "score": "99"}]),
            "new_attachments": [SimpleUploadedFile("a.png", PNG, content_type="image/png")],
        },
    )
    assert response.status_code == 400 and "assessments" in response.json()
    fake = client_for("secretary_a").post(
        reverse("evaluation-application-list"),
        {
            "program": program.pk,
            "organization": tree.branch_a.pk,
            "new_attachments": [
                SimpleUploadedFile("b.png", b"MZ\x90 not", content_type="image/png")
            ],
        },
    )
    assert fake.status_code == 400 and "b.png" in fake.json()["attachments"][0]
    broken = client_for("secretary_a").post(
        reverse("evaluation-application-list"),
        {"program": program.pk, "organization": tree.branch_a.pk, "assessments": "[{"},
    )
    assert broken.status_code == 400 and "assessments" in broken.json()
    assert saved() == (0, 0, 0, 0)
    assert not list(settings.MEDIA_ROOT.rglob("*.png"))


def test_a_second_application_and_the_deadline(tree, program, submitted, client_for):
    client = client_for("secretary_a")
    second = post(client, "evaluation-application-list", application_body(tree, program))
    assert second.status_code == 400
    assert second.json() == {"organization": [f"统计局第一党支部已申报{program.name}。"]}
    program.closes_on = today() - datetime.timedelta(days=1)
    program.save()
    draft = services.Application.objects.create(program=program, organization=tree.group_a)
    late = post(client, "evaluation-application-list", application_body(tree, program))
    assert late.status_code == 400 and "申报时间为" in late.json()["program"][0]
    late_submit = post(client, "evaluation-application-submit", {}, draft.pk)
    assert late_submit.json() == {"non_field_errors": ["申报时间已过。"]}
    assert Application.objects.count() == 2


@pytest.mark.parametrize(
    ("scores", "field", "words"),
    [
        ({"first": "21"}, "scores", "0到20"),
        ({"first": "-1"}, "scores", "大于或者等于"),
        ({"first": "NaN"}, "scores", "合法的数字"),
        ({"first": "Infinity"}, "scores", "合法的数字"),
        ({"first": "99999999"}, "scores", "不超过"),
        ({"first": "abc"}, "scores", "合法的数字"),
        ({"first": None}, "scores", "不能为 null"),
        ({"drop": True}, "scores", "请评分"),
        ({"other_program": True}, "scores", "不属于"),
        ({"huge_id": True}, "scores", "小于或者等于"),
        ({"twice": True}, "scores", "多次"),
        ({"not_a_list": True}, "scores", "列表"),
    ],
)
def test_bad_sheets_are_chinese_400s_and_nothing_is_saved(
    in_review, client_for, scores, field, words
):
    body = sheet_body(in_review)
    items = body["scores"]
    if "first" in scores:
        items[0]["score"] = scores["first"]
    if scores.get("drop"):
        items.pop()
    if scores.get("other_program"):
        other = Program.objects.create(
            name="另一项目",
            kind=ProgramKind.BRAND,
            year=in_review.program.year,
            opens_on=in_review.program.opens_on,
            closes_on=in_review.program.closes_on,
            title="党建品牌",
        )
        seed_program(other, Criterion, Stage)
        items[0]["criterion"] = criteria_of(other)[0].pk
    if scores.get("huge_id"):
        items[0]["criterion"] = 2**70
    if scores.get("twice"):
        items.append(dict(items[0]))
    if scores.get("not_a_list"):
        body = {"scores": {"criterion": 1}}
    response = post(client_for("inspector_a"), "evaluation-application-sheets", body, in_review.pk)
    assert response.status_code == 400, response.content
    assert words in json.dumps(response.json()[field], ensure_ascii=False), response.json()
    assert not ReviewSheet.objects.exists() and not Score.objects.exists()


def test_a_sheet_of_ones_own_organization_twice_or_of_a_withdrawn_application_is_refused(
    tree, program, submitted, client_for, staff, secretary_a
):
    own = User.objects.create_user(
        username="reviewer_a1",
        password="x-123456789",
        role=Role.INSPECTOR,
        organization=tree.committee_a,  # above branch_a
    )
    program.reviewers.add(own)
    application = services.start_review(staff, submitted)
    client = Client()
    client.force_login(own)
    conflict = post(
        client, "evaluation-application-sheets", sheet_body(application), application.pk
    )
    assert conflict.status_code == 400
    assert "回避" in conflict.json()["non_field_errors"][0]
    reviewer = client_for("inspector_a")
    first = post(reviewer, "evaluation-application-sheets", sheet_body(application), application.pk)
    assert first.status_code == 201
    twice = post(reviewer, "evaluation-application-sheets", sheet_body(application), application.pk)
    assert twice.json() == {"non_field_errors": ["您已在本环节为这份申报评过分。"]}
    assert ReviewSheet.objects.count() == 1
    # A withdrawn application is never scored.
    other = services.nominate(staff, program, tree.branch_a2)
    services.withdraw_application(staff, other)
    withdrawn = post(
        client_for("staff"), "evaluation-application-sheets", sheet_body(other), other.pk
    )
    assert withdrawn.status_code == 400 and "评审中" in withdrawn.json()["non_field_errors"][0]
    assert ReviewSheet.objects.count() == 1


def test_unknown_and_huge_ids_are_404s_and_400s(program, submitted, client_for):
    client = client_for("staff")
    assert client.get(f"/api/evaluation-applications/{2**64}/").status_code == 404
    assert client.post(f"/api/evaluation-applications/{2**64}/submit/").status_code == 404
    assert client.get(f"/api/evaluation-applications/{2**63}/sheets/").status_code == 404
    for name in ("evaluation-application-submit", "evaluation-application-sheets"):
        assert client.post(reverse(name, args=[987654])).status_code == 404
    assert client.get(f"/api/evaluation-designations/{2**70}/").status_code == 404
    assert client.get(f"/api/evaluation-programs/{2**63}/").status_code == 404
    assert client.get("/api/evaluation-programs/1.5/").status_code == 404
    assert (
        client.get(f"/api/evaluation-applications/{submitted.pk}/attachments/{2**64}/").status_code
        == 404
    )
    for params in (
        {"program": str(2**70)},
        {"program": "0.5"},
        {"organization": "-1"},
        {"stage": "x"},
        {"nominated": ""},
    ):
        response = client.get(reverse("evaluation-application-list"), params)
        assert response.status_code == 400, params
    for params in ({"program": str(2**70)}, {"year": "x"}, {"program": "0"}):
        assert client.get(reverse("evaluation-honour-roll-list"), params).status_code == 400
    assert (
        client.get(reverse("evaluation-honour-roll-list"), {"program": 987654}).json()["total"] == 0
    )


def test_a_nul_character_is_a_chinese_400(tree, program, submitted, client_for):
    client = client_for("secretary_a")
    response = post(
        client, "evaluation-application-list", application_body(tree, program, summary="三\u0000会")
    )
    assert (response.status_code, response.json()) == (400, {"detail": NUL_MESSAGE})
    reason = post(
        client_for("staff"),
        "evaluation-designation-re-review",
        {"outcome": "kept", "reason": "a\x00"},
        987654,
    )
    assert reason.status_code == 400
    query = client.get(reverse("evaluation-application-list"), {"search": "统\x00计"})
    assert query.status_code == 400
    assert Application.objects.count() == 1


# --- queries: the same for few rows and many ----------------------------------------------------


def _many(tree, staff, secretary, reviewer, n, start=0):
    """n open programs reviewed by `reviewer`, each with branch_a's application under review
    (self-assessed, a photo, two sheets at the first stage) and a title of branch_a with a
    re-review."""
    for i in range(start, start + n):
        program = Program.objects.create(
            name=f"示范点{i}",
            kind=ProgramKind.DEMONSTRATION_SITE,
            year=today().year,
            opens_on=today() - datetime.timedelta(days=7),
            closes_on=today() + datetime.timedelta(days=30),
            title="示范点",
        )
        seed_program(program, Criterion, Stage)
        program.reviewers.add(reviewer)
        data = full_marks(program, tree.branch_a)
        data.attachments = [SimpleUploadedFile("a.png", PNG, content_type="image/png")]
        application = services.save_application(secretary, data)
        application = services.start_review(
            staff, services.submit_application(secretary, application)
        )
        services.submit_sheet(reviewer, application, scores_for(application, "17"))
        services.submit_sheet(staff, application, scores_for(application, "19"))
        title = Designation.objects.create(
            program=program,
            organization=tree.branch_a,
            title=program.title,
            awarded_on=today(),
            valid_until=today() + datetime.timedelta(days=900),
        )
        services.re_review(staff, title, "kept", "复查合格")


LISTS = [
    "evaluation-program-list",
    "evaluation-application-list",
    "evaluation-designation-list",
    "evaluation-honour-roll-list",
]


@pytest.mark.parametrize("role", ["staff", "secretary_a", "inspector_a"])
def test_lists_cost_the_same_queries_for_3_and_12_programs(
    tree, staff, secretary_a, inspector_a, client_for, role
):
    client = client_for(role)

    def measure() -> dict[str, int]:
        found = {}
        for name in LISTS:
            with CaptureQueriesContext(connection) as queries:
                response = client.get(reverse(name))
            assert response.status_code == 200, (name, response.content)
            found[name] = len(queries)
        application = Application.objects.order_by("pk").first()
        if role != "secretary_a":
            with CaptureQueriesContext(connection) as queries:
                response = client.get(
                    reverse("evaluation-application-sheets", args=[application.pk])
                )
            assert response.status_code == 200
            found["sheets"] = len(queries)
        return found

    _many(tree, staff, secretary_a, inspector_a, 3)
    few = measure()
    _many(tree, staff, secretary_a, inspector_a, 9, start=3)
    many = measure()
    assert few == many
    listed = client.get(reverse("evaluation-application-list")).json()
    assert listed["count"] == 12
    first = listed["results"][0]
    assert len(first["self_assessments"]) == 5 and len(first["attachments"]) == 1
    if role == "secretary_a":
        assert first["stage_results"] is None and first["evidence"] is None
    else:
        assert first["stage_results"][0]["result"] == "90.00"
    designations = client.get(reverse("evaluation-designation-list")).json()
    assert designations["count"] == 12
    assert len(designations["results"][0]["re_reviews"]) == 1
