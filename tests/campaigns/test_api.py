"""The campaigns API: campaigns with their targets' progress and participation totals, filing
participation and tagging theme days, a problem from its recording to its acceptance (photos in
multipart, sent back on the way), who may move a problem and who may not, annual reports,
inspection groups and key tasks by scope; Chinese 400s with nothing half-saved; lists in a
constant number of queries."""

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

from branches.models import ActivityRecord, Member
from campaigns import services
from campaigns.models import (
    AnnualReport,
    Campaign,
    CampaignActivity,
    CampaignKind,
    InspectionGroup,
    KeyMeasure,
    KeyTask,
    Participation,
    ParticipationGoods,
    Problem,
    ProblemEvent,
    ProblemState,
    Rectification,
    RectificationPhoto,
    Target,
    TargetSource,
    VisitLog,
    VisitMethod,
)
from campaigns.services import GoodsInput, ParticipationInput, ProblemInput
from tests.conftest import add_record

# The standing cast, built once for the module (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("module_cast")

D = datetime.date
P = ProblemState
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
NUL_MESSAGE = "不允许包含空字符（NUL）。"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def today() -> datetime.date:
    return timezone.localdate()


def days_ago(n: int) -> datetime.date:
    return today() - datetime.timedelta(days=n)


def post(client, name, data, *args):
    return client.post(reverse(name, args=args), json.dumps(data), content_type="application/json")


def put(client, name, data, *args):
    return client.put(reverse(name, args=args), json.dumps(data), content_type="application/json")


def png(name="整改.png"):
    return SimpleUploadedFile(name, PNG, content_type="image/png")


def problem_for(user, organization, group=None, found=None, deadline=None) -> Problem:
    found = found or days_ago(10)
    return services.record_problem(
        user,
        ProblemInput(
            organization=organization,
            category="组织生活",
            description="三会一课记录不全",
            found_on=found,
            deadline=deadline or found + datetime.timedelta(days=30),
            group=group,
        ),
    )


@pytest.fixture
def theme_campaign(db):
    return Campaign.objects.create(
        name="献爱心、送温暖",
        kind=CampaignKind.THEME_DAY,
        starts_on=today().replace(day=1),
        ends_on=today() + datetime.timedelta(days=30),
        topic="献爱心",
        theme_month=today(),
    )


def problem_state(problem) -> tuple:
    problem.refresh_from_db()
    return (
        problem.state,
        problem.events.count(),
        Rectification.objects.filter(problem=problem).count(),
        RectificationPhoto.objects.filter(answer__problem=problem).count(),
    )


# --- campaigns: targets and their progress, participation totals --------------------------------


def test_campaigns_with_targets_and_their_live_progress(tree, campaign, client_for, activity_types):
    Target.objects.create(
        campaign=campaign,
        indicator="在社区报到党员",
        unit_of_measure="名",
        goal=10,
        source=TargetSource.MEMBERS_REGISTERED,
        sort_order=2,
    )
    Target.objects.create(
        campaign=campaign,
        indicator="千人纪念活动",
        unit_of_measure="人",
        goal=Decimal("1000"),
        manual_progress=Decimal("350.50"),
        sort_order=1,
    )
    Target.objects.create(
        campaign=campaign, indicator="零目标", unit_of_measure="个", goal=0, sort_order=3
    )
    Member.objects.filter(pk=tree.members["a1"].pk).update(community="城南社区")
    client = client_for("secretary_b")
    listed = client.get(reverse("campaign-list")).json()
    assert listed["count"] == 1
    (row,) = listed["results"]
    assert (row["name"], row["kind"], row["kind_display"], row["running"]) == (
        "2026年基层党建专项检查",
        "inspection",
        "督导检查",
        True,
    )
    assert [t["indicator"] for t in row["targets"]] == ["千人纪念活动", "在社区报到党员", "零目标"]
    assert "progress" not in row["targets"][0]  # counted on the campaign's own page
    detail = client.get(reverse("campaign-detail", args=[campaign.pk])).json()
    targets = {t["indicator"]: t for t in detail["targets"]}
    assert (targets["千人纪念活动"]["progress"], targets["千人纪念活动"]["share"]) == (
        "350.50",
        0.3505,
    )
    assert targets["千人纪念活动"]["goal"] == "1000.00"
    assert (targets["在社区报到党员"]["progress"], targets["在社区报到党员"]["source"]) == (
        "1.00",
        "members_registered",
    )
    assert targets["零目标"]["share"] is None
    # Filters
    assert client.get(reverse("campaign-list"), {"kind": "plan"}).json()["count"] == 0
    assert client.get(reverse("campaign-list"), {"current": "true"}).json()["count"] == 1
    assert client.get(reverse("campaign-list"), {"period": "1999"}).json()["count"] == 0
    year = campaign.starts_on.year
    assert client.get(reverse("campaign-list"), {"period": str(year)}).json()["count"] == 1
    for params in ({"kind": "party"}, {"period": "2026-13"}, {"current": ""}):
        assert client.get(reverse("campaign-list"), params).status_code == 400, params


def test_participation_totals_are_exact_and_over_the_users_scope(
    tree, theme_campaign, client_for, secretary_a, staff, activity_types
):
    for money in ("0.10", "0.20"):
        services.file_participation(
            secretary_a if money == "0.10" else staff,
            ParticipationInput(
                theme_campaign,
                tree.branch_a if money == "0.10" else tree.branch_b,
                members=12,
                money=Decimal(money),
                goods=[GoodsInput("棉被", Decimal("206"), "床", Decimal("20600.00"))],
            ),
        )
    record = add_record(tree.branch_a2, activity_types["theme_day"], today(), topic="献爱心")
    services.tag_activity(staff, theme_campaign, record)
    every = client_for("staff").get(reverse("campaign-totals", args=[theme_campaign.pk])).json()
    assert every["campaign"] == theme_campaign.pk
    assert every["total"] == {
        "organizations": 3,  # two filed, one tagged
        "members": 24,
        "money": "0.30",
        "goods_value": "41200.00",
    }
    assert [(u["unit_name"], u["organizations"], u["money"]) for u in every["by_unit"]] == [
        ("市统计局", 2, "0.10"),
        ("市水务局", 1, "0.20"),
    ]
    assert every["goods"] == [
        {"item": "棉被", "unit_of_measure": "床", "quantity": "412.00", "value": "41200.00"}
    ]
    mine = client_for("secretary_b").get(reverse("campaign-totals", args=[theme_campaign.pk]))
    assert mine.json()["total"] == {
        "organizations": 1,
        "members": 12,
        "money": "0.20",
        "goods_value": "20600.00",
    }
    assert [u["unit_name"] for u in mine.json()["by_unit"]] == ["市水务局"]


# --- participation: filed by the secretaries, goods lines included -------------------------------


def body_a(for_campaign, tree, /, **extra) -> dict:
    data = {
        "campaign": for_campaign.pk,
        "organization": tree.branch_a.pk,
        "members": 12,
        "money": "0.10",
        "note": "捐款捐物",
        "goods": [{"item": "棉被", "quantity": "206", "unit_of_measure": "床", "value": "20600"}],
    }
    data.update(extra)
    return data


def saved_participation() -> tuple[int, int]:
    return Participation.objects.count(), ParticipationGoods.objects.count()


def test_a_secretary_files_participation_and_files_it_again(
    tree, theme_campaign, client_for, secretary_a
):
    client = client_for("secretary_a")
    made = post(client, "campaign-participation-list", body_a(theme_campaign, tree))
    assert made.status_code == 201, made.content
    data = made.json()
    assert (data["organization_name"], data["unit_name"], data["members"]) == (
        "统计局第一党支部",
        "市统计局",
        12,
    )
    assert (data["money"], data["goods_value"], data["filed_by"]) == (
        "0.10",
        "20600.00",
        secretary_a.pk,
    )
    assert data["goods"] == [
        {
            "id": ParticipationGoods.objects.get().pk,
            "item": "棉被",
            "quantity": "206.00",
            "unit_of_measure": "床",
            "value": "20600.00",
        }
    ]
    # Filed again: replaces, goods included.
    again = post(
        client,
        "campaign-participation-list",
        body_a(theme_campaign, tree, members=3, money="5.55", goods=[]),
    )
    assert again.status_code == 200, again.content
    assert (again.json()["id"], again.json()["members"], again.json()["goods"]) == (
        data["id"],
        3,
        [],
    )
    assert saved_participation() == (1, 0)
    changed = put(
        client,
        "campaign-participation-detail",
        {
            "members": 7,
            "money": "1.01",
            "goods": [{"item": "大米", "quantity": "5", "unit_of_measure": "袋"}],
        },
        data["id"],
    )
    assert changed.status_code == 200, changed.content
    assert (changed.json()["members"], changed.json()["money"]) == (7, "1.01")
    assert [(g["item"], g["value"]) for g in changed.json()["goods"]] == [("大米", "0.00")]
    # Another branch's secretary neither sees it nor touches it; inspectors never write.
    other = client_for("secretary_b")
    assert other.get(reverse("campaign-participation-detail", args=[data["id"]])).status_code == 404
    assert (
        put(other, "campaign-participation-detail", {"members": 1}, data["id"]).status_code == 404
    )
    inspector = client_for("inspector_a")
    assert (
        inspector.get(reverse("campaign-participation-detail", args=[data["id"]])).status_code
        == 200
    )
    assert (
        put(inspector, "campaign-participation-detail", {"members": 1}, data["id"]).status_code
        == 403
    )
    assert Participation.objects.get().members == 7
    assert (
        client.patch(
            reverse("campaign-participation-detail", args=[data["id"]]),
            {},
            content_type="application/json",
        ).status_code
        == 405
    )


@pytest.mark.parametrize(
    ("extra", "field", "words"),
    [
        ({"money": "-5"}, "money", "大于或者等于"),
        ({"money": "NaN"}, "money", "合法的数字"),
        ({"money": "Infinity"}, "money", "合法的数字"),
        ({"money": "1234567890123456"}, "money", "不超过"),
        ({"money": "1e400"}, "money", ""),
        ({"money": "1.005"}, "money", "2"),
        ({"members": -1}, "members", "大于或者等于"),
        ({"members": 2**40}, "members", "小于或者等于"),
        ({"members": "many"}, "members", "合法的整数"),
        ({"goods": [{"item": "棉被", "quantity": "0", "unit_of_measure": "床"}]}, "goods", "0.01"),
        (
            {"goods": [{"item": "棉被", "quantity": "1", "unit_of_measure": ""}]},
            "goods",
            "不能为空",
        ),
        (
            {"goods": [{"item": "棉被", "quantity": "NaN", "unit_of_measure": "床"}]},
            "goods",
            "合法",
        ),
        (
            {"goods": [{"item": "棉被", "quantity": "1", "unit_of_measure": "床", "value": "-1"}]},
            "goods",
            "大于或者等于",
        ),
        ({"goods": "棉被"}, "goods", ""),
        ({"campaign": 987654}, "campaign", "对象不存在"),
        ({"campaign": 2**70}, "campaign", "对象不存在"),
        ({"campaign": "献爱心"}, "campaign", "类型错误"),
        ({"organization": "other"}, "organization", "对象不存在"),
        ({"organization": 1.5}, "organization", "类型错误"),
        ({"note": "x" * 201}, "note", "200"),
    ],
)
def test_bad_participation_is_a_chinese_400_and_nothing_is_saved(
    tree, theme_campaign, client_for, extra, field, words
):
    if extra.get("organization") == "other":
        extra["organization"] = tree.branch_b.pk
    response = post(
        client_for("secretary_a"),
        "campaign-participation-list",
        body_a(theme_campaign, tree, **extra),
    )
    assert response.status_code == 400, response.content
    errors = response.json()
    assert words in json.dumps(errors[field], ensure_ascii=False), errors
    assert "水务局" not in response.content.decode()  # an organization outside is not named
    assert saved_participation() == (0, 0)


def test_participation_in_a_campaign_not_started_is_refused(tree, client_for):
    later = Campaign.objects.create(
        name="明年的活动",
        kind=CampaignKind.PLAN,
        starts_on=today() + datetime.timedelta(days=10),
        ends_on=today() + datetime.timedelta(days=40),
    )
    response = post(client_for("secretary_a"), "campaign-participation-list", body_a(later, tree))
    assert (response.status_code, response.json()) == (400, {"campaign": ["活动尚未开始。"]})
    assert saved_participation() == (0, 0)


def test_a_nul_character_is_a_chinese_400(tree, theme_campaign, group, inspector_a, client_for):
    client = client_for("secretary_a")
    response = post(
        client, "campaign-participation-list", body_a(theme_campaign, tree, note="捐\u0000款")
    )
    assert (response.status_code, response.json()) == (400, {"detail": NUL_MESSAGE})
    problem = problem_for(inspector_a, tree.branch_a, group)
    form = client.post(reverse("problem-answer", args=[problem.pk]), {"measures": "整\x00改"})
    assert (form.status_code, form.json()) == (400, {"detail": NUL_MESSAGE})
    query = client.get(reverse("problem-list"), {"search": "三\x00会"})
    assert query.status_code == 400
    assert saved_participation() == (0, 0)
    assert problem_state(problem) == (P.OPEN, 1, 0, 0)


# --- theme days tagged with a campaign -----------------------------------------------------------


def test_a_secretary_tags_a_theme_day_once(
    tree, theme_campaign, campaign, client_for, activity_types
):
    record = add_record(tree.branch_a, activity_types["theme_day"], today(), topic="献爱心")
    client = client_for("secretary_a")
    made = post(
        client, "campaign-activity-list", {"campaign": theme_campaign.pk, "record": record.pk}
    )
    assert made.status_code == 201, made.content
    assert (made.json()["record"], made.json()["organization"], made.json()["topic"]) == (
        record.pk,
        tree.branch_a.pk,
        "献爱心",
    )
    again = post(
        client, "campaign-activity-list", {"campaign": theme_campaign.pk, "record": record.pk}
    )
    assert again.status_code == 400 and "non_field_errors" in again.json()
    inspection = post(
        client, "campaign-activity-list", {"campaign": campaign.pk, "record": record.pk}
    )
    assert inspection.status_code == 400, inspection.content
    lesson = add_record(tree.branch_a, activity_types["party_lecture"], today())
    not_theme = post(
        client, "campaign-activity-list", {"campaign": theme_campaign.pk, "record": lesson.pk}
    )
    assert not_theme.status_code == 400
    theirs = add_record(tree.branch_b, activity_types["theme_day"], today(), topic="献爱心")
    outside = post(
        client, "campaign-activity-list", {"campaign": theme_campaign.pk, "record": theirs.pk}
    )
    assert outside.status_code == 400 and "对象不存在" in outside.json()["record"][0]
    assert CampaignActivity.objects.count() == 1
    assert client.get(reverse("campaign-activity-list")).json()["count"] == 1
    assert client_for("secretary_b").get(reverse("campaign-activity-list")).json()["count"] == 0
    assert (
        client_for("secretary_b")
        .get(reverse("campaign-activity-detail", args=[made.json()["id"]]))
        .status_code
        == 404
    )
    assert (
        post(
            client_for("inspector_a"),
            "campaign-activity-list",
            {"campaign": theme_campaign.pk, "record": record.pk},
        ).status_code
        == 403
    )


# --- problems: from recording to acceptance ------------------------------------------------------


def new_problem(organization, group=None, /, **extra) -> dict:
    found = days_ago(5)
    data = {
        "organization": organization.pk,
        "category": "组织生活",
        "description": "三会一课记录不全",
        "severity": "serious",
        "found_on": found.isoformat(),
        "deadline": (found + datetime.timedelta(days=30)).isoformat(),
    }
    if group is not None:
        data["group"] = group.pk
    data.update(extra)
    return data


def test_a_problem_from_recording_to_acceptance_sent_back_once(
    tree, group, campaign, client_for, inspector_a, secretary_a
):
    inspector = client_for("inspector_a")
    secretary = client_for("secretary_a")
    made = post(inspector, "problem-list", new_problem(tree.branch_a, group))
    assert made.status_code == 201, made.content
    data = made.json()
    assert (data["state"], data["severity"], data["group"], data["campaign"]) == (
        "open",
        "serious",
        group.pk,
        campaign.pk,
    )
    assert (data["organization_name"], data["unit_name"], data["overdue"]) == (
        "统计局第一党支部",
        "市统计局",
        False,
    )
    assert [(e["from_state"], e["to_state"], e["by"]) for e in data["events"]] == [
        ("", "open", inspector_a.pk)
    ]
    pk = data["id"]
    started = post(secretary, "problem-start-rectifying", {}, pk)
    assert started.status_code == 200 and started.json()["state"] == "rectifying"
    answered = secretary.post(
        reverse("problem-answer", args=[pk]),
        {"measures": "补齐会议记录", "evidence": "会议记录本", "photos": [png(), png("二.png")]},
    )
    assert answered.status_code == 200, answered.content
    (answer,) = answered.json()["answers"]
    assert (answered.json()["state"], answer["measures"], answer["submitted_by"]) == (
        "submitted",
        "补齐会议记录",
        secretary_a.pk,
    )
    assert [p["name"] for p in answer["photos"]] == ["整改.png", "二.png"]
    url = answer["photos"][0]["url"]
    assert url.startswith(f"http://testserver/api/problems/{pk}/photos/")
    download = inspector.get(url)
    assert download.status_code == 200 and download["Content-Type"] == "image/png"
    assert b"".join(download.streaming_content) == PNG
    assert client_for("secretary_b").get(url).status_code == 404
    no_reason = post(inspector, "problem-send-back", {"reason": ""}, pk)
    assert no_reason.status_code == 400 and "reason" in no_reason.json()
    sent_back = post(inspector, "problem-send-back", {"reason": "佐证材料不足"}, pk)
    assert sent_back.status_code == 200 and sent_back.json()["state"] == "sent_back"
    assert sent_back.json()["events"][-1]["note"] == "佐证材料不足"
    again = post(secretary, "problem-answer", {"measures": "补充照片"}, pk)
    assert again.status_code == 200 and again.json()["state"] == "submitted"
    accepted = post(inspector, "problem-accept", {"note": "整改到位"}, pk)
    assert accepted.status_code == 200, accepted.content
    final = accepted.json()
    assert final["state"] == "accepted" and len(final["answers"]) == 2
    assert [e["to_state"] for e in final["events"]] == [
        "open",
        "rectifying",
        "submitted",
        "sent_back",
        "submitted",
        "accepted",
    ]
    # Accepted is final: a 400, and nothing moves.
    late = post(inspector, "problem-send-back", {"reason": "再看看"}, pk)
    assert late.status_code == 400 and "non_field_errors" in late.json()
    late_answer = secretary.post(
        reverse("problem-answer", args=[pk]), {"measures": "再整改", "photos": [png()]}
    )
    assert late_answer.status_code == 400
    assert problem_state(Problem.objects.get(pk=pk)) == (P.ACCEPTED, 6, 2, 2)


def test_staff_record_a_problem_without_a_group_and_move_both_sides(tree, client_for):
    staff = client_for("staff")
    made = post(staff, "problem-list", new_problem(tree.branch_b))
    assert made.status_code == 201, made.content
    pk = made.json()["id"]
    assert (made.json()["group"], made.json()["campaign"]) == (None, None)
    assert post(staff, "problem-answer", {"measures": "整改"}, pk).status_code == 200
    assert post(staff, "problem-accept", {}, pk).json()["state"] == "accepted"


def test_the_inspector_does_not_answer_and_the_secretary_does_not_accept(
    tree, group, inspector_a, client_for
):
    problem = problem_for(inspector_a, tree.branch_a, group)
    inspector, secretary = client_for("inspector_a"), client_for("secretary_a")
    assert (
        post(inspector, "problem-answer", {"measures": "代为整改"}, problem.pk).status_code == 403
    )
    assert post(inspector, "problem-start-rectifying", {}, problem.pk).status_code == 403
    assert post(secretary, "problem-answer", {"measures": "整改"}, problem.pk).status_code == 200
    assert post(secretary, "problem-accept", {}, problem.pk).status_code == 403
    assert post(secretary, "problem-send-back", {"reason": "x"}, problem.pk).status_code == 403
    assert post(secretary, "problem-list", new_problem(tree.branch_a)).status_code == 403
    assert problem_state(problem) == (P.SUBMITTED, 2, 1, 0)


@pytest.mark.parametrize(
    ("who", "answer_side", "accept_side"),
    [
        ("secretary_b", 404, 403),  # not in their scope; never accepts
        ("inspector_city", 403, 403),  # sees it (the whole city), not in the group
        ("inspector_a_not_in_group", 403, 403),  # sees it (their unit), removed from the group
    ],
)
def test_nobody_else_moves_a_problem(
    tree, group, inspector_a, secretary_a, client_for, who, answer_side, accept_side
):
    open_problem = problem_for(inspector_a, tree.branch_a, group)
    submitted = problem_for(inspector_a, tree.branch_a, group)
    services.answer_problem(secretary_a, submitted, "整改", photos=[png()])
    if who == "inspector_a_not_in_group":
        group.members.remove(inspector_a)
        client = client_for("inspector_a")
    else:
        client = client_for(who)
    before = problem_state(open_problem), problem_state(submitted)
    assert post(client, "problem-start-rectifying", {}, open_problem.pk).status_code == answer_side
    answer = client.post(
        reverse("problem-answer", args=[open_problem.pk]),
        {"measures": "代为整改", "photos": [png()]},
    )
    assert answer.status_code == answer_side
    accept = post(client, "problem-accept", {"note": "好"}, submitted.pk)
    send_back = post(client, "problem-send-back", {"reason": "不行"}, submitted.pk)
    assert (accept.status_code, send_back.status_code) == (accept_side, accept_side)
    if accept_side == 403 and who != "secretary_b":
        assert "督导组" in accept.json()["detail"]
    assert (problem_state(open_problem), problem_state(submitted)) == before
    assert RectificationPhoto.objects.count() == 1


@pytest.mark.parametrize(
    ("role", "extra", "field", "words"),
    [
        ("inspector_a", {"deadline": "before"}, "deadline", "不能早于"),
        ("inspector_a", {"found_on": "future"}, "found_on", "未来"),
        ("inspector_a", {"found_on": "2026-02-30"}, "found_on", "日期格式错误"),
        ("inspector_a", {"description": "  "}, "description", "不能为空"),
        ("inspector_a", {"category": "x" * 51}, "category", "50"),
        ("inspector_a", {"severity": "fatal"}, "severity", "不是合法选项"),
        ("inspector_a", {"organization": 987654}, "organization", "对象不存在"),
        ("inspector_a", {"organization": 2**70}, "organization", "对象不存在"),
        ("inspector_a", {"organization": "branch_b"}, "organization", "对象不存在"),
        ("inspector_a", {"group": 987654}, "group", "对象不存在"),
        ("inspector_a", {"group": None}, "group", "督导组"),
        ("inspector_city", {}, "group", "对象不存在"),  # not a member of the group
        ("staff", {"deadline": "before"}, "deadline", "不能早于"),
        ("staff", {"annual_report": 987654}, "annual_report", "对象不存在"),
    ],
)
def test_a_bad_problem_is_a_chinese_400_and_nothing_is_saved(
    tree, group, client_for, role, extra, field, words
):
    body = new_problem(tree.branch_a, group, **extra)
    if extra.get("deadline") == "before":
        body["deadline"] = (days_ago(5) - datetime.timedelta(days=1)).isoformat()
    if extra.get("found_on") == "future":
        body["found_on"] = (today() + datetime.timedelta(days=1)).isoformat()
        body["deadline"] = (today() + datetime.timedelta(days=9)).isoformat()
    if extra.get("organization") == "branch_b":
        body["organization"] = tree.branch_b.pk
    response = post(client_for(role), "problem-list", body)
    assert response.status_code == 400, response.content
    errors = response.json()
    assert words in json.dumps(errors[field], ensure_ascii=False), errors
    assert "水务局" not in response.content.decode()
    assert not Problem.objects.exists() and not ProblemEvent.objects.exists()


def test_a_fake_photo_saves_no_answer(tree, group, inspector_a, client_for, settings):
    problem = problem_for(inspector_a, tree.branch_a, group)
    fake = SimpleUploadedFile("photo.jpg", b"MZ\x90\x00 not a photo", content_type="image/jpeg")
    response = client_for("secretary_a").post(
        reverse("problem-answer", args=[problem.pk]), {"measures": "整改", "photos": [fake, png()]}
    )
    assert response.status_code == 400 and "photo.jpg" in response.json()["photos"][0]
    blank = client_for("secretary_a").post(
        reverse("problem-answer", args=[problem.pk]), {"measures": " ", "photos": [png()]}
    )
    assert blank.status_code == 400 and "measures" in blank.json()
    assert problem_state(problem) == (P.OPEN, 1, 0, 0)
    assert not list(settings.MEDIA_ROOT.rglob("*.png"))


def test_problems_are_read_in_scope(tree, group, staff, inspector_a, client_for):
    mine = problem_for(inspector_a, tree.branch_a, group)
    theirs = problem_for(staff, tree.branch_b)
    expected = {
        "staff": {mine.pk, theirs.pk},
        "secretary_a": {mine.pk},
        "secretary_b": {theirs.pk},
        "inspector_a": {mine.pk},
        "inspector_city": {mine.pk, theirs.pk},
    }
    for role, ids in expected.items():
        client = client_for(role)
        listed = client.get(reverse("problem-list")).json()["results"]
        assert {r["id"] for r in listed} == ids, role
        for pk in (mine.pk, theirs.pk):
            status = 200 if pk in ids else 404
            assert client.get(reverse("problem-detail", args=[pk])).status_code == status
    # A group's inspector also sees what the group found outside their units.
    group.units.add(tree.unit_b)
    found_by_group = problem_for(staff, tree.branch_b, group)
    inspector = client_for("inspector_a")
    assert inspector.get(reverse("problem-detail", args=[found_by_group.pk])).status_code == 200
    listed = inspector.get(reverse("problem-list")).json()
    assert listed["count"] == 2
    # Filters never widen the scope.
    assert (
        client_for("secretary_a")
        .get(reverse("problem-list"), {"organization": tree.branch_b.pk})
        .json()["count"]
        == 0
    )


def test_problem_filters(tree, group, campaign, staff, inspector_a, secretary_a, client_for):
    late = problem_for(
        inspector_a, tree.branch_a, group, found=D(2025, 3, 1), deadline=D(2025, 4, 1)
    )
    open_a = problem_for(inspector_a, tree.branch_a, group)
    services.answer_problem(secretary_a, open_a, "整改")
    other = problem_for(staff, tree.branch_b)
    client = client_for("staff")

    def ids(**params):
        response = client.get(reverse("problem-list"), params)
        assert response.status_code == 200, response.content
        return {r["id"] for r in response.json()["results"]}

    assert ids() == {late.pk, open_a.pk, other.pk}
    assert ids(campaign=campaign.pk) == {late.pk, open_a.pk}
    assert ids(group=group.pk, state="submitted") == {open_a.pk}
    assert ids(unit=tree.unit_b.pk) == {other.pk}
    assert ids(organization=tree.committee_a.pk) == {late.pk, open_a.pk}
    assert ids(period="2025-Q1") == {late.pk}
    assert ids(overdue="true") == {late.pk}
    assert ids(overdue="false") == {open_a.pk, other.pk}
    assert ids(campaign=str(2**62)) == set()
    row = client.get(reverse("problem-detail", args=[late.pk])).json()
    assert row["overdue"] is True and row["overdue_since"] is None
    for params in (
        {"state": "lost"},
        {"overdue": ""},
        {"overdue": "maybe"},
        {"period": "2025-13"},
        {"unit": "0.5"},
        {"campaign": str(2**70)},
        {"group": "abc"},
        {"severity": "fatal"},
    ):
        assert client.get(reverse("problem-list"), params).status_code == 400, params


# --- annual reports, inspection groups, visits, key tasks -----------------------------------------


def test_annual_reports_are_read_in_scope_and_assessed_by_staff(tree, client_for):
    mine = AnnualReport.objects.create(organization=tree.branch_a, year=2025, report="述职报告")
    theirs = AnnualReport.objects.create(organization=tree.branch_b, year=2025, report="述职报告")
    secretary = client_for("secretary_a")
    listed = secretary.get(reverse("campaign-annual-report-list")).json()
    assert [r["id"] for r in listed["results"]] == [mine.pk]
    assert listed["results"][0]["assessment"] == ""
    assert (
        secretary.get(reverse("campaign-annual-report-detail", args=[theirs.pk])).status_code == 404
    )
    assert (
        post(
            secretary, "campaign-annual-report-assess", {"assessment": "good"}, mine.pk
        ).status_code
        == 403
    )
    staff = client_for("staff")
    bad = post(staff, "campaign-annual-report-assess", {"assessment": "great"}, mine.pk)
    assert bad.status_code == 400 and "不是合法选项" in bad.json()["assessment"][0]
    done = post(staff, "campaign-annual-report-assess", {"assessment": "fairly_good"}, mine.pk)
    assert done.status_code == 200, done.content
    assert (done.json()["assessment"], done.json()["assessed_on"]) == (
        "fairly_good",
        today().isoformat(),
    )
    assert (
        staff.get(reverse("campaign-annual-report-list"), {"assessed": "true"}).json()["count"] == 1
    )
    assert (
        staff.get(
            reverse("campaign-annual-report-list"), {"year": "2025", "unit": tree.unit_b.pk}
        ).json()["count"]
        == 1
    )
    assert staff.get(reverse("campaign-annual-report-list"), {"year": "1800"}).status_code == 400


def test_inspection_groups_and_visits_are_read_by_staff_and_the_groups_members(
    tree, group, campaign, client_for
):
    visit = VisitLog.objects.create(
        group=group, date=days_ago(3), method=VisitMethod.LISTEN, place="统计局", notes="听取汇报"
    )
    other_group = InspectionGroup.objects.create(campaign=campaign, name="第二督导组")
    expected = {
        "staff": {group.pk, other_group.pk},
        "inspector_a": {group.pk},
        "inspector_city": set(),
        "secretary_a": set(),
        "secretary_b": set(),
    }
    for role, ids in expected.items():
        client = client_for(role)
        groups = client.get(reverse("campaign-group-list")).json()["results"]
        assert {g["id"] for g in groups} == ids, role
        visits = client.get(reverse("campaign-visit-list")).json()["results"]
        assert {v["id"] for v in visits} == ({visit.pk} if group.pk in ids else set()), role
        status = 200 if group.pk in ids else 404
        assert client.get(reverse("campaign-group-detail", args=[group.pk])).status_code == status
        assert client.get(reverse("campaign-visit-detail", args=[visit.pk])).status_code == status
    row = client_for("inspector_a").get(reverse("campaign-group-detail", args=[group.pk])).json()
    assert [m["name"] for m in row["members"]] == ["insp_a"]
    assert [u["name"] for u in row["units"]] == ["市统计局"]
    visits = (
        client_for("staff")
        .get(reverse("campaign-visit-list"), {"method": "listen", "campaign": campaign.pk})
        .json()
    )
    assert [(v["method"], v["method_display"]) for v in visits["results"]] == [("listen", "听")]
    assert (
        client_for("staff").get(reverse("campaign-visit-list"), {"method": "sing"}).status_code
        == 400
    )


def test_key_tasks_are_read_by_the_owners_of_their_measures(tree, campaign, client_for):
    task = KeyTask.objects.create(campaign=campaign, title="规范组织生活")
    KeyMeasure.objects.create(
        task=task, description="补齐记录", organization=tree.branch_a, deadline=today()
    )
    KeyMeasure.objects.create(
        task=task, description="建立台账", organization=tree.branch_b, deadline=today()
    )
    lonely = KeyTask.objects.create(campaign=campaign, title="待分解任务")
    seen = {
        "staff": {task.pk: 2, lonely.pk: 0},
        "inspector_city": {task.pk: 2, lonely.pk: 0},
        "secretary_a": {task.pk: 1},
        "secretary_b": {task.pk: 1},
        "inspector_a": {task.pk: 1},
    }
    for role, expected in seen.items():
        rows = client_for(role).get(reverse("campaign-key-task-list")).json()["results"]
        assert {r["id"]: len(r["measures"]) for r in rows} == expected, role
    mine = client_for("secretary_a").get(reverse("campaign-key-task-detail", args=[task.pk])).json()
    assert [m["organization_name"] for m in mine["measures"]] == ["统计局第一党支部"]
    assert (
        client_for("secretary_a")
        .get(reverse("campaign-key-task-detail", args=[lonely.pk]))
        .status_code
        == 404
    )
    staff = client_for("staff")
    assert (
        staff.get(reverse("campaign-key-task-list"), {"unit": tree.unit_b.pk}).json()["count"] == 1
    )
    assert (
        staff.get(reverse("campaign-key-task-list"), {"organization": tree.branch_a2.pk}).json()[
            "count"
        ]
        == 0
    )


# --- queries: the same for few rows and many ------------------------------------------------------


def _many(tree, staff, inspector, n: int, start: int = 0) -> None:
    """n of everything: campaigns with two targets, participations with goods, tagged theme
    days, problems with events and an answer with a photo, annual reports, groups (the
    inspector in each) with visits, key tasks with measures; bulk-created."""
    campaigns = Campaign.objects.bulk_create(
        Campaign(
            name=f"活动{i}",
            kind=CampaignKind.THEME_DAY,
            starts_on=D(2025, 1, 1),
            ends_on=D(2025, 12, 31),
        )
        for i in range(start, start + n)
    )
    Target.objects.bulk_create(
        Target(campaign=c, indicator=f"指标{k}", unit_of_measure="个", goal=10)
        for c in campaigns
        for k in range(2)
    )
    participations = Participation.objects.bulk_create(
        Participation(
            campaign=c, organization=tree.branch_a, members=3, money=Decimal("1.01"), filed_by=staff
        )
        for c in campaigns
    )
    ParticipationGoods.objects.bulk_create(
        ParticipationGoods(participation=p, item="棉被", quantity=2, unit_of_measure="床", value=50)
        for p in participations
    )
    records = ActivityRecord.objects.bulk_create(
        ActivityRecord(
            organization=tree.branch_a, type_name="主题党日", date=D(2025, 3, 1), topic="t"
        )
        for _ in campaigns
    )
    CampaignActivity.objects.bulk_create(
        CampaignActivity(campaign=c, record=r) for c, r in zip(campaigns, records, strict=True)
    )
    groups = InspectionGroup.objects.bulk_create(
        InspectionGroup(campaign=c, name="督导组") for c in campaigns
    )
    InspectionGroup.members.through.objects.bulk_create(
        InspectionGroup.members.through(inspectiongroup_id=g.pk, user_id=u.pk)
        for g in groups
        for u in (inspector, staff)
    )
    InspectionGroup.units.through.objects.bulk_create(
        InspectionGroup.units.through(inspectiongroup_id=g.pk, unit_id=tree.unit_a.pk)
        for g in groups
    )
    VisitLog.objects.bulk_create(
        VisitLog(group=g, date=D(2025, 3, 1), method=VisitMethod.CHECK, place="统计局")
        for g in groups
    )
    problems = Problem.objects.bulk_create(
        Problem(
            organization=tree.branch_a,
            group=g,
            category="组织生活",
            description="记录不全",
            found_on=D(2025, 3, 1),
            deadline=D(2025, 4, 1),
            state=P.SUBMITTED,
            created_by=inspector,
        )
        for g in groups
    )
    ProblemEvent.objects.bulk_create(
        ProblemEvent(problem=p, from_state=a, to_state=b, by=inspector)
        for p in problems
        for a, b in (("", P.OPEN), (P.OPEN, P.SUBMITTED))
    )
    answers = Rectification.objects.bulk_create(
        Rectification(problem=p, measures="整改", submitted_by=staff) for p in problems
    )
    RectificationPhoto.objects.bulk_create(
        RectificationPhoto(
            answer=a,
            file=f"rectification/x{a.pk}.png",
            original_name="a.png",
            content_type="image/png",
            size=1,
        )
        for a in answers
    )
    AnnualReport.objects.bulk_create(
        AnnualReport(organization=tree.branch_a, year=1900 + i, report="述职")
        for i in range(start, start + n)
    )
    tasks = KeyTask.objects.bulk_create(KeyTask(campaign=c, title="任务") for c in campaigns)
    KeyMeasure.objects.bulk_create(
        KeyMeasure(task=t, description="措施", organization=tree.branch_a, deadline=D(2025, 6, 1))
        for t in tasks
    )


LISTS = [
    "campaign-list",
    "campaign-participation-list",
    "campaign-activity-list",
    "problem-list",
    "campaign-annual-report-list",
    "campaign-group-list",
    "campaign-visit-list",
    "campaign-key-task-list",
]


@pytest.mark.parametrize("role", ["staff", "secretary_a", "inspector_a"])
def test_lists_cost_the_same_queries_for_3_and_12_rows(tree, staff, inspector_a, client_for, role):
    client = client_for(role)

    def measure() -> dict[str, int]:
        found = {}
        for name in LISTS:
            with CaptureQueriesContext(connection) as queries:
                response = client.get(reverse(name))
            assert response.status_code == 200, (name, response.content)
            found[name] = len(queries)
        campaign = Campaign.objects.order_by("pk").first()
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("campaign-totals", args=[campaign.pk]))
        assert response.status_code == 200
        found["campaign-totals"] = len(queries)
        return found

    _many(tree, staff, inspector_a, 3)
    few = measure()
    _many(tree, staff, inspector_a, 9, start=3)
    many = measure()
    assert few == many
    problems = client.get(reverse("problem-list")).json()
    assert problems["count"] == 12
    first = problems["results"][0]
    assert len(first["events"]) == 2 and len(first["answers"][0]["photos"]) == 1
    participations = client.get(reverse("campaign-participation-list")).json()
    assert participations["count"] == 12 and participations["results"][0]["goods_value"] == "50.00"
    if role != "secretary_a":  # groups: staff and their members only
        groups = client.get(reverse("campaign-group-list")).json()
        assert groups["count"] == 12 and len(groups["results"][0]["members"]) == 2


def test_the_schema_publishes_the_campaign_endpoints(db, client):
    schema = client.get(reverse("schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    for path in (
        "/api/campaigns/",
        "/api/campaigns/{id}/totals/",
        "/api/campaign-participations/",
        "/api/campaign-participations/{id}/",
        "/api/campaign-activities/",
        "/api/problems/",
        "/api/problems/{id}/start-rectifying/",
        "/api/problems/{id}/answer/",
        "/api/problems/{id}/accept/",
        "/api/problems/{id}/send-back/",
        "/api/problems/{id}/photos/{photo_pk}/",
        "/api/campaign-annual-reports/{id}/assess/",
        "/api/campaign-groups/",
        "/api/campaign-visits/",
        "/api/campaign-key-tasks/",
    ):
        assert path in schema["paths"], path
    answer = schema["paths"]["/api/problems/{id}/answer/"]["post"]["requestBody"]["content"]
    assert "multipart/form-data" in answer
    state = schema["components"]["schemas"]["Problem"]["properties"]["state"]
    assert state["type"] == "string" and "submitted" in state["pattern"]
