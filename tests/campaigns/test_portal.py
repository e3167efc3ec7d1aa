"""Portal pages of campaigns and supervision: the rectification of a problem end to end (the
group's inspector records it, the responsible secretary answers with photos, the group sends it
back twice and accepts it), who may do what (404 outside the scope, 403 with the reason, no
button for what one may not do), recording a problem, participation and theme days, notices,
the overdue problems on a secretary's home, Chinese errors on bad input with nothing saved, and
query counts that do not grow with the rows."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Notice
from campaigns import selectors, services
from campaigns.models import (
    Campaign,
    CampaignActivity,
    CampaignKind,
    Participation,
    ParticipationGoods,
    Problem,
    ProblemEvent,
    ProblemState,
    Rectification,
    RectificationPhoto,
    Target,
)
from campaigns.services import ProblemInput
from tests.conftest import add_record

# The standing cast, built once for the module (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("module_cast")

D = datetime.date
P = ProblemState
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    """Uploads go to a temporary folder, not the project's media/."""
    settings.MEDIA_ROOT = tmp_path


def today() -> datetime.date:
    return timezone.localdate()


def url(name: str, obj=None) -> str:
    return reverse(f"portal:{name}", args=[obj.pk] if obj is not None else [])


def text(response) -> str:
    return response.content.decode()


def photo(name="整改.png", content=PNG, content_type="image/png"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def make_problem(inspector, organization, group, found=None, deadline=None, **extra):
    found = found or today() - datetime.timedelta(days=10)
    return services.record_problem(
        inspector,
        ProblemInput(
            organization=organization,
            category=extra.pop("category", "组织生活"),
            description=extra.pop("description", "三会一课记录不全"),
            found_on=found,
            deadline=deadline or found + datetime.timedelta(days=30),
            group=group,
            evidence=extra.pop("evidence", "抽查2026年会议记录"),
            **extra,
        ),
    )


@pytest.fixture
def problem(tree, group, inspector_a):
    """branch_a's (secretary_a's) problem, found by inspector_a's group."""
    return make_problem(inspector_a, tree.branch_a, group)


def state_of(problem) -> str:
    return Problem.objects.get(pk=problem.pk).state


# --- the rectification, end to end ------------------------------------------------------------


def test_rectification_in_the_portal_with_a_problem_sent_back_twice(
    tree, group, client_for, secretary_a, inspector_a
):
    inspector = client_for("inspector_a")
    secretary = client_for("secretary_a")

    # The group's inspector records it.
    recorded = inspector.post(
        url("problem_new"),
        {
            "organization": tree.branch_a.pk,
            "group": group.pk,
            "category": "组织生活",
            "description": "三会一课记录不全",
            "severity": "serious",
            "found_on": (today() - datetime.timedelta(days=3)).isoformat(),
            "deadline": (today() + datetime.timedelta(days=27)).isoformat(),
            "evidence": "抽查会议记录本",
        },
    )
    problem = Problem.objects.get()
    assert recorded.status_code == 302 and recorded["Location"] == url("problem", problem)
    assert (problem.organization, problem.group, problem.created_by) == (
        tree.branch_a,
        group,
        inspector_a,
    )
    assert problem.severity == "serious" and problem.state == P.OPEN

    # The responsible secretary finds it in the list and opens it: the answer form, no
    # acceptance.
    listed = text(secretary.get(url("problems")))
    assert url("problem", problem) in listed and "未解决" in listed
    page = text(secretary.get(url("problem", problem)))
    assert "三会一课记录不全" in page and "抽查会议记录本" in page
    assert "data-answer-form" in page and "data-start" in page
    assert 'accept="image/*" capture="environment" multiple' in page
    assert "data-accept-form" not in page

    assert secretary.post(url("problem_start", problem)).status_code == 302
    assert state_of(problem) == P.RECTIFYING

    for round_ in (1, 2):
        answered = secretary.post(
            url("problem_answer", problem),
            {"measures": f"第{round_}次整改：补齐记录", "photos": [photo()]},
        )
        assert answered.status_code == 302 and state_of(problem) == P.SUBMITTED
        # The secretary may no longer answer; the inspector sees the acceptance forms.
        assert "data-answer-form" not in text(secretary.get(url("problem", problem)))
        page = text(inspector.get(url("problem", problem)))
        assert "data-accept-form" in page and "data-answer-form" not in page
        # A reason is needed to send it back: nothing moves without one.
        refused = inspector.post(url("problem_send_back", problem), {"reason": "  "})
        assert refused.status_code == 200
        assert "退回理由" in " ".join(refused.context["send_back_form"].errors["reason"])
        assert state_of(problem) == P.SUBMITTED
        sent_back = inspector.post(url("problem_send_back", problem), {"reason": "佐证材料不足"})
        assert sent_back.status_code == 302 and state_of(problem) == P.SENT_BACK
        assert "佐证材料不足" in text(secretary.get(url("problem", problem)))

    assert (
        secretary.post(url("problem_answer", problem), {"measures": "第3次整改：材料齐全"})
    ).status_code == 302
    accepted = inspector.post(url("problem_accept", problem), {"note": "整改到位"})
    assert accepted.status_code == 302
    assert state_of(problem) == P.ACCEPTED
    assert [e.to_state for e in ProblemEvent.objects.filter(problem=problem)] == [
        P.OPEN,
        P.RECTIFYING,
        P.SUBMITTED,
        P.SENT_BACK,
        P.SUBMITTED,
        P.SENT_BACK,
        P.SUBMITTED,
        P.ACCEPTED,
    ]
    assert Rectification.objects.filter(problem=problem).count() == 3
    assert RectificationPhoto.objects.filter(answer__problem=problem).count() == 2

    # Accepted is final: no buttons for anybody, and a late POST changes nothing.
    page = text(inspector.get(url("problem", problem)))
    assert "已验收" in page and "整改到位" in page and "data-accept-form" not in page
    assert "data-answer-form" not in text(secretary.get(url("problem", problem)))
    late = inspector.post(url("problem_send_back", problem), {"reason": "再看看"}, follow=True)
    assert "不能变为" in text(late)
    assert state_of(problem) == P.ACCEPTED
    assert ProblemEvent.objects.filter(problem=problem).count() == 8


def test_the_secretary_answers_with_a_photo_served_only_within_the_scope(
    problem, client_for, secretary_a
):
    secretary = client_for("secretary_a")
    response = secretary.post(
        url("problem_answer", problem),
        {"measures": "补齐三会一课记录", "evidence": "见照片", "photos": [photo()]},
        follow=True,
    )
    assert "整改情况已提交督导组验收" in text(response)
    answer = Rectification.objects.get()
    assert (answer.submitted_by, answer.evidence) == (secretary_a, "见照片")
    stored = answer.photos.get()
    assert (stored.original_name, stored.content_type) == ("整改.png", "image/png")
    page = text(response)
    assert url("problem_photo", stored) in page and "补齐三会一课记录" in page

    for role in ("secretary_a", "inspector_a", "inspector_city", "staff"):
        served = client_for(role).get(url("problem_photo", stored))
        assert served.status_code == 200, role
        assert served["Content-Type"] == "image/png"
        assert b"".join(served.streaming_content) == PNG
    assert client_for("secretary_b").get(url("problem_photo", stored)).status_code == 404
    assert client_for("anonymous").get(url("problem_photo", stored)).status_code == 302


# --- who may do what ----------------------------------------------------------------------------


ACTIONS = [
    ("problem_start", {}),
    ("problem_answer", {"measures": "代为整改"}),
    ("problem_accept", {"note": "通过"}),
    ("problem_send_back", {"reason": "不行"}),
]


def _unchanged(problem, state=P.SUBMITTED, events=2, answers=1) -> None:
    assert state_of(problem) == state
    assert ProblemEvent.objects.filter(problem=problem).count() == events
    assert Rectification.objects.filter(problem=problem).count() == answers


def test_secretary_b_gets_404_and_changes_nothing(problem, client_for, secretary_a):
    services.answer_problem(secretary_a, problem, "整改")
    client = client_for("secretary_b")
    assert client.get(url("problem", problem)).status_code == 404
    assert url("problem", problem) not in text(client.get(url("problems")))
    for name, data in ACTIONS:
        assert client.post(url(name, problem), data).status_code == 404, name
    _unchanged(problem)


def test_inspector_city_sees_the_problem_but_is_not_of_the_group(problem, client_for, secretary_a):
    services.answer_problem(secretary_a, problem, "整改")
    client = client_for("inspector_city")
    page = text(client.get(url("problem", problem)))
    assert "三会一课记录不全" in page
    assert "data-accept-form" not in page and "data-answer-form" not in page
    refused = client.post(url("problem_accept", problem), {"note": "通过"})
    assert refused.status_code == 403
    assert "只有发现问题的督导组可以验收或退回" in text(refused)
    assert client.post(url("problem_send_back", problem), {"reason": "不行"}).status_code == 403
    answer = client.post(url("problem_answer", problem), {"measures": "代为整改"})
    assert answer.status_code == 403 and "只有责任党组织可以答复这个问题的整改" in text(answer)
    assert client.post(url("problem_start", problem)).status_code == 403
    _unchanged(problem)


def test_an_inspector_taken_out_of_the_group_may_no_longer_accept(
    problem, group, client_for, secretary_a, inspector_a
):
    services.answer_problem(secretary_a, problem, "整改")
    group.members.remove(inspector_a)
    client = client_for("inspector_a")
    page = text(client.get(url("problem", problem)))  # still in their unit's scope
    assert "data-accept-form" not in page
    assert client.post(url("problem_accept", problem), {"note": "通过"}).status_code == 403
    assert client.post(url("problem_send_back", problem), {"reason": "不行"}).status_code == 403
    _unchanged(problem)


def test_the_group_inspector_does_not_answer_and_the_secretary_does_not_accept(problem, client_for):
    inspector, secretary = client_for("inspector_a"), client_for("secretary_a")
    assert "data-answer-form" not in text(inspector.get(url("problem", problem)))
    assert inspector.post(url("problem_answer", problem), {"measures": "x"}).status_code == 403
    assert inspector.post(url("problem_start", problem)).status_code == 403
    secretary.post(url("problem_answer", problem), {"measures": "整改"})
    assert secretary.post(url("problem_accept", problem), {"note": "好"}).status_code == 403
    assert secretary.post(url("problem_send_back", problem), {"reason": "x"}).status_code == 403
    _unchanged(problem)


def test_an_inspector_of_the_group_sees_a_problem_outside_their_units(
    tree, group, client_for, staff, secretary_b, inspector_a
):
    """Staff recorded it for branch_b under inspector_a's group: the group accepts it."""
    problem = make_problem(staff, tree.branch_b, group)
    services.answer_problem(secretary_b, problem, "整改")
    page = text(client_for("inspector_a").get(url("problem", problem)))
    assert "data-accept-form" in page
    assert client_for("inspector_a").post(url("problem_accept", problem)).status_code == 302
    assert state_of(problem) == P.ACCEPTED


def test_a_problem_that_is_not_there_is_a_404(client_for):
    for name, _data in ACTIONS:
        assert client_for("staff").post(reverse(f"portal:{name}", args=[987654])).status_code == 404
    assert client_for("staff").get(reverse("portal:problem", args=[987654])).status_code == 404


# --- recording a problem -----------------------------------------------------------------------


def recording(tree, with_group, **extra) -> dict:
    data = {
        "organization": tree.branch_a.pk,
        "group": with_group.pk if with_group is not None else "",
        "category": "组织生活",
        "description": "三会一课记录不全",
        "severity": "normal",
        "found_on": (today() - datetime.timedelta(days=1)).isoformat(),
        "deadline": (today() + datetime.timedelta(days=30)).isoformat(),
    }
    data.update(extra)
    return data


def test_the_form_offers_the_inspectors_scope_and_groups(tree, group, client_for):
    response = client_for("inspector_a").get(url("problem_new"))
    assert response.status_code == 200
    choices = dict(response.context["form"].fields["organization"].choices)
    assert tree.branch_a.pk in choices and tree.committee_a.pk in choices
    assert tree.branch_b.pk not in choices
    html = text(response)
    assert f'<option value="{group.pk}" selected>' in html  # their only group
    assert f'max="{today():%Y-%m-%d}"' in html


def test_secretaries_do_not_record_problems(tree, group, client_for):
    client = client_for("secretary_a")
    assert "data-record-problem" not in text(client.get(url("problems")))
    response = client.get(url("problem_new"))
    assert response.status_code == 403 and "督导组" in text(response)
    assert client.post(url("problem_new"), recording(tree, group)).status_code == 403
    assert not Problem.objects.exists()


BAD_PROBLEMS = [
    # (what is sent, the field in error, a piece of the Chinese message)
    ({"deadline": "2020-01-01", "found_on": "2020-02-01"}, "deadline", "不能早于"),
    ({"found_on": "2999-01-01", "deadline": "2999-02-01"}, "found_on", "未来"),
    ({"found_on": "2026-02-30"}, "found_on", "有效的日期"),
    ({"deadline": ""}, "deadline", "整改期限"),
    ({"description": "   "}, "description", "问题内容"),
    ({"category": ""}, "category", "类别"),
    ({"description": "很" * 4001}, "description", "4000"),
    ({"severity": "fatal"}, "severity", "有效的选项"),
    ({"group": ""}, "group", "督导组"),
    ({"group": "abc"}, "group", "有效的选项"),
    ({"organization": "999999"}, "organization", "有效的选项"),
]


@pytest.mark.parametrize(
    ("data", "field", "message"), BAD_PROBLEMS, ids=[repr(b[0])[:50] for b in BAD_PROBLEMS]
)
def test_bad_problems_come_back_in_chinese_next_to_the_field_and_nothing_is_saved(
    tree, group, client_for, data, field, message
):
    response = client_for("inspector_a").post(url("problem_new"), recording(tree, group, **data))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors, errors
    assert message in " ".join(errors[field])
    html = text(response)
    assert "未保存任何内容" in html and f'id="error_{field}"' in html
    assert not Problem.objects.exists() and not ProblemEvent.objects.exists()


def test_an_inspector_may_not_record_outside_their_units(tree, group, client_for):
    response = client_for("inspector_a").post(
        url("problem_new"), recording(tree, group, organization=tree.branch_b.pk)
    )
    assert response.status_code == 200
    assert "organization" in response.context["form"].errors
    assert not Problem.objects.exists()


def test_an_inspector_in_no_group_is_told_so(tree, group, client_for):
    response = client_for("inspector_city").get(url("problem_new"))
    assert "data-no-group" in text(response)
    refused = client_for("inspector_city").post(
        url("problem_new"), recording(tree, group, organization=tree.branch_b.pk)
    )
    assert "group" in refused.context["form"].errors  # not their group: not a choice
    assert not Problem.objects.exists()


def test_staff_record_without_a_group(tree, client_for):
    data = recording(tree, None)
    response = client_for("staff").post(url("problem_new"), data)
    assert response.status_code == 302
    assert Problem.objects.get().group is None


# --- bad answers: Chinese errors, nothing saved, never a 500 -----------------------------------


BAD_ANSWERS = [
    ({"measures": "  "}, "measures", "整改"),
    ({"measures": "很" * 4001}, "measures", "4000"),
    (
        {"photos": [photo("notes.txt", b"just some text", "text/plain")]},
        "photos",
        "不是照片",
    ),
    (
        {"photos": [photo("fake.png", b"GIF89a" + b"\x00" * 20, "image/png")]},
        "photos",
        "不是照片",
    ),
]


@pytest.mark.parametrize(
    ("data", "field", "message"),
    BAD_ANSWERS,
    ids=[b[1] + str(i) for i, b in enumerate(BAD_ANSWERS)],
)
def test_bad_answers_come_back_in_chinese_and_nothing_is_saved(
    problem, client_for, data, field, message
):
    sent = {"measures": "补齐记录", "photos": [photo()], **data}
    response = client_for("secretary_a").post(url("problem_answer", problem), sent)
    assert response.status_code == 200
    form = response.context["answer_form"]
    errors = form.photo_errors if field == "photos" else form.errors[field]
    assert message in " ".join(errors), errors
    html = text(response)
    assert "未保存任何内容" in html and "照片未保存，请重新选择" in html
    assert f'id="error_{field}"' in html
    _unchanged(problem, state=P.OPEN, events=1, answers=0)
    assert not RectificationPhoto.objects.exists()


def test_a_nul_in_a_form_is_a_chinese_400(problem, client_for):
    response = client_for("secretary_a").post(url("problem_answer", problem), {"measures": "a\x00"})
    assert response.status_code == 400
    assert "空字符" in text(response)
    _unchanged(problem, state=P.OPEN, events=1, answers=0)


# --- the list ------------------------------------------------------------------------------------


def test_the_list_filters_by_state_and_overdue(tree, group, client_for, inspector_a, secretary_a):
    late = make_problem(
        inspector_a, tree.branch_a, group, found=D(2025, 1, 1), deadline=D(2025, 2, 1)
    )
    on_time = make_problem(inspector_a, tree.branch_a, group, description="台账不规范")
    services.answer_problem(secretary_a, on_time, "整改")
    client = client_for("secretary_a")

    def listed(**query):
        response = client.get(url("problems"), query)
        assert response.status_code == 200
        return [p.pk for p in response.context["page"].object_list]

    assert listed() == [late.pk, on_time.pk]  # by deadline
    assert listed(state="submitted") == [on_time.pk]
    assert listed(overdue="1") == [late.pk]
    assert listed(state="nope", overdue="yes", page="-3") == [late.pk, on_time.pk]
    html = text(client.get(url("problems")))
    assert "已逾期" in html and "待验收" in html and tree.branch_a.name in html
    assert group.name in html


@pytest.mark.parametrize("rows", [2, 9])
def test_the_list_costs_the_same_queries_however_many_problems(
    tree, group, client_for, inspector_a, django_assert_num_queries, rows
):
    for i in range(rows):
        make_problem(inspector_a, tree.branch_a, group, description=f"问题{i}")
    # 1 session, 2 user, 3 count, 4 the page with organizations and groups.
    with django_assert_num_queries(4):
        response = client_for("secretary_a").get(url("problems"))
    assert len(response.context["page"].object_list) == rows
    # The inspector's scope is read as ids first (one query more).
    with django_assert_num_queries(5):
        response = client_for("inspector_a").get(url("problems"))
    assert len(response.context["page"].object_list) == rows


@pytest.mark.parametrize("answers", [1, 4])
def test_the_problem_page_costs_the_same_queries_however_many_answers(
    problem, client_for, secretary_a, inspector_a, django_assert_num_queries, answers
):
    for i in range(answers):
        services.answer_problem(secretary_a, problem, f"第{i}次", photos=[photo(), photo()])
        if i < answers - 1:
            services.send_back(inspector_a, problem, "再补充")
    # 1 session, 2 user, 3 scope ids, 4 the problem, 5 its history, 6 answers, 7 photos,
    # 8 may the inspector accept (a member of the group?).
    with django_assert_num_queries(8):
        response = client_for("inspector_a").get(url("problem", problem))
    assert len(response.context["answers"]) == answers
    assert text(response).count("data-answer=") == answers


# --- campaigns, participation, theme days -------------------------------------------------------


@pytest.fixture
def theme_campaign(db):
    return Campaign.objects.create(
        name="献爱心、送温暖",
        kind=CampaignKind.THEME_DAY,
        starts_on=today() - datetime.timedelta(days=60),
        ends_on=today() + datetime.timedelta(days=60),
        topic="献爱心",
        theme_month=today(),
        owner="市直机关工委",
    )


def participation_post(tree, **extra) -> dict:
    data = {
        "organization": tree.branch_a.pk,
        "members": "12",
        "money": "1234.56",
        "note": "捐款捐物",
        "goods-TOTAL_FORMS": "3",
        "goods-INITIAL_FORMS": "0",
        "goods-MIN_NUM_FORMS": "0",
        "goods-MAX_NUM_FORMS": "30",
        "goods-0-item": "棉被",
        "goods-0-quantity": "20",
        "goods-0-unit_of_measure": "床",
        "goods-0-value": "3000",
        "goods-1-item": "大米",
        "goods-1-quantity": "10.5",
        "goods-1-unit_of_measure": "袋",
        "goods-1-value": "",
    }
    data.update(extra)
    return data


def test_campaign_pages_show_targets_against_their_goals(campaign, client_for):
    Target.objects.create(
        campaign=campaign,
        indicator="千人纪念活动",
        unit_of_measure="人",
        goal=1000,
        manual_progress=Decimal("350"),
    )
    client = client_for("secretary_a")
    listed = text(client.get(url("campaigns")))
    assert campaign.name in listed and url("campaign", campaign) in listed
    page = text(client.get(url("campaign", campaign)))
    assert "千人纪念活动" in page
    assert "350 / 1000 人, 35%" in page


def test_a_secretary_files_participation_and_the_totals_are_exact(
    tree, campaign, client_for, secretary_a
):
    client = client_for("secretary_a")
    form = client.get(url("participation", campaign))
    assert form.status_code == 200
    assert form.context["form"]["organization"].value() == tree.branch_a.pk
    assert text(form).count("data-goods-line") >= 3  # at least three blank lines

    response = client.post(url("participation", campaign), participation_post(tree))
    assert response.status_code == 302
    assert response["Location"] == url("campaign", campaign) + "#participation"
    filed = Participation.objects.get()
    assert (filed.organization, filed.members, filed.money) == (
        tree.branch_a,
        12,
        Decimal("1234.56"),
    )
    assert [(g.item, g.quantity, g.value) for g in filed.goods.all()] == [
        ("棉被", Decimal("20.00"), Decimal("3000.00")),
        ("大米", Decimal("10.50"), Decimal("0.00")),
    ]
    page = client.get(url("campaign", campaign))
    assert page.context["total"].money == Decimal("1234.56")
    html = text(page)
    assert "1234.56" in html and "3000.00" in html and "20床" in html and "10.50袋" in html
    assert tree.unit_a.name in html

    # Filed again (offered with the earlier lines), it replaces the earlier filing.
    again = client.get(url("participation", campaign))
    assert again.context["goods"].forms[0]["item"].value() == "棉被"
    assert text(again).count("data-goods-line") == 5  # two filed, three blank
    client.post(
        url("participation", campaign),
        participation_post(tree, money="0.10", **{"goods-1-item": "", "goods-1-quantity": ""}),
    )
    # "大米" left only its unit: a line not fully blanked is an error, nothing changes.
    assert Participation.objects.get().money == Decimal("1234.56")
    client.post(
        url("participation", campaign),
        participation_post(
            tree,
            money="0.10",
            **{"goods-1-item": "", "goods-1-quantity": "", "goods-1-unit_of_measure": ""},
        ),
    )
    filed = Participation.objects.get()
    assert filed.money == Decimal("0.10") and filed.goods.count() == 1


BAD_PARTICIPATION = [
    ({"money": "-5"}, "money", "负数"),
    ({"money": "1e400"}, "money", "14 个数字"),
    ({"money": "NaN"}, "money", "数字"),
    ({"money": "12.345"}, "money", "小数不超过 2 位"),
    ({"members": "-1"}, "members", "负数"),
    ({"members": "99999999999"}, "members", "100000"),
    ({"members": "十"}, "members", "整数"),
    ({"note": "很" * 201}, "note", "200"),
    ({"organization": "999999"}, "organization", "有效的选项"),
    ({"goods-0-quantity": "0"}, "goods", "数量必须大于零"),
    ({"goods-0-unit_of_measure": ""}, "goods", "计量单位"),
    ({"goods-0-value": "-1"}, "goods", "负数"),
    ({"goods-0-quantity": "1e20"}, "goods-0-quantity", "12 个数字"),
    ({"goods-TOTAL_FORMS": "5000"}, "goods-form", "30"),
    ({"goods-TOTAL_FORMS": "x"}, "goods-form", "数据缺失或被篡改"),
]


@pytest.mark.parametrize(
    ("data", "field", "message"),
    BAD_PARTICIPATION,
    ids=[repr(b[0])[:50] for b in BAD_PARTICIPATION],
)
def test_bad_participation_comes_back_in_chinese_and_nothing_is_saved(
    tree, campaign, client_for, data, field, message
):
    response = client_for("secretary_a").post(
        url("participation", campaign), participation_post(tree, **data)
    )
    assert response.status_code == 200
    form, goods = response.context["form"], response.context["goods"]
    if field == "goods":
        errors = form.goods_errors
    elif field == "goods-form":
        errors = goods.non_form_errors()
    elif field.startswith("goods-0-"):
        errors = goods.forms[0].errors[field.removeprefix("goods-0-")]
    else:
        errors = form.errors[field]
    assert message in " ".join(errors), (errors, form.errors, goods.errors)
    assert "未保存任何内容" in text(response)
    assert not Participation.objects.exists() and not ParticipationGoods.objects.exists()


def test_inspectors_and_outsiders_do_not_file(tree, campaign, client_for):
    inspector = client_for("inspector_a")
    assert "data-file-participation" not in text(inspector.get(url("campaign", campaign)))
    assert inspector.get(url("participation", campaign)).status_code == 403
    assert (
        inspector.post(url("participation", campaign), participation_post(tree)).status_code == 403
    )
    # secretary_b: branch_a is not a choice.
    refused = client_for("secretary_b").post(
        url("participation", campaign), participation_post(tree)
    )
    assert refused.status_code == 200 and "organization" in refused.context["form"].errors
    assert not Participation.objects.exists()


def test_a_theme_day_counts_for_the_campaign_with_one_click_and_once(
    tree, theme_campaign, client_for, activity_types, secretary_a
):
    record = add_record(tree.branch_a, activity_types["theme_day"], today(), topic="献爱心主题党日")
    other_month = add_record(
        tree.branch_a,
        activity_types["theme_day"],
        today() - datetime.timedelta(days=40),
        topic="上月主题党日",
    )
    lecture = add_record(tree.branch_a, activity_types["party_lecture"], today(), topic="党课")
    client = client_for("secretary_a")
    page = text(client.get(url("campaign", theme_campaign)))
    assert "献爱心主题党日" in page and f'name="record" value="{record.pk}"' in page
    assert "上月主题党日" not in page and "党课" not in page

    tagged = client.post(url("campaign_tag", theme_campaign), {"record": record.pk}, follow=True)
    assert "已计入本次活动" in text(tagged)
    assert "data-counted" in text(tagged)
    again = client.post(url("campaign_tag", theme_campaign), {"record": record.pk}, follow=True)
    assert "已计入" in text(again)
    assert CampaignActivity.objects.filter(campaign=theme_campaign).count() == 1
    # Another month, another type: refused, in Chinese, nothing saved.
    for wrong, message in ((other_month, "主题党日在"), (lecture, "只有主题党日")):
        refused = client.post(
            url("campaign_tag", theme_campaign), {"record": wrong.pk}, follow=True
        )
        assert refused.status_code == 200
        assert "message--error" in text(refused) and message in text(refused)
    assert CampaignActivity.objects.count() == 1

    # Filed as well as tagged: the branch counts once.
    client.post(url("participation", theme_campaign), participation_post(tree))
    totals = selectors.participation_totals(secretary_a, theme_campaign)
    assert totals["total"].organizations == 1
    assert client.get(url("campaign", theme_campaign)).context["total"].organizations == 1


def test_tagging_someone_elses_record_is_a_404_and_an_inspectors_a_403(
    tree, theme_campaign, client_for, activity_types
):
    record = add_record(tree.branch_b, activity_types["theme_day"], today(), topic="水务局")
    assert (
        client_for("secretary_a").post(url("campaign_tag", theme_campaign), {"record": record.pk})
    ).status_code == 404
    assert (
        client_for("secretary_a").post(url("campaign_tag", theme_campaign), {"record": "x"})
    ).status_code == 404
    assert (
        client_for("inspector_city").post(
            url("campaign_tag", theme_campaign), {"record": record.pk}
        )
    ).status_code == 403
    assert not CampaignActivity.objects.exists()


@pytest.mark.parametrize("rows", [1, 6])
def test_the_campaign_page_costs_the_same_queries_however_many_filings(
    tree, theme_campaign, client_for, staff, activity_types, django_assert_num_queries, rows
):
    from branches.models import Organization, OrganizationKind

    Target.objects.create(
        campaign=theme_campaign, indicator="参与人数", unit_of_measure="人", goal=100
    )
    for i in range(rows):
        branch = Organization.objects.create(
            code=f"A-P{i}",
            name=f"支部{i}",
            kind=OrganizationKind.BRANCH,
            unit=tree.unit_a,
            parent=tree.committee_a,
        )
        services.file_participation(
            staff,
            services.ParticipationInput(
                theme_campaign,
                branch,
                members=3,
                money=Decimal("1.10"),
                goods=[services.GoodsInput("大米", Decimal("1"), "袋", Decimal("50"))],
            ),
        )
        add_record(branch, activity_types["theme_day"], today(), topic=f"主题党日{i}")
    # 1 session, 2 user, 3 the campaign, 4 targets, 5-9 participation totals (by unit, goods by
    # unit, goods by item, the filing organizations, tagged theme days), 10 units, 11 the theme
    # days of the month.
    with django_assert_num_queries(11):
        response = client_for("staff").get(url("campaign", theme_campaign))
    assert response.context["total"].organizations == rows
    assert response.context["total"].money == Decimal("1.10") * rows
    assert len(response.context["theme_days"]) == rows


@pytest.mark.parametrize("rows", [1, 7])
def test_the_campaign_list_costs_the_same_queries_however_many(
    client_for, django_assert_num_queries, rows
):
    for i in range(rows):
        Campaign.objects.create(
            name=f"专项活动{i}",
            kind=CampaignKind.PLAN,
            starts_on=today() - datetime.timedelta(days=i),
            ends_on=today() + datetime.timedelta(days=30),
        )
    # 1 session, 2 user, 3 count, 4 the page.
    with django_assert_num_queries(4):
        response = client_for("inspector_a").get(url("campaigns"))
    assert len(response.context["page"].object_list) == rows
    assert "进行中" in text(response)


# --- notices -------------------------------------------------------------------------------------


def test_overdue_notices_are_listed_newest_first_and_marked_read(
    tree, group, client_for, inspector_a, secretary_a, secretary_b
):
    first = make_problem(
        inspector_a, tree.branch_a, group, found=D(2025, 1, 1), deadline=D(2025, 1, 31)
    )
    services.mark_overdue(today=D(2025, 2, 1))
    second = make_problem(
        inspector_a,
        tree.branch_a,
        group,
        found=D(2025, 1, 1),
        deadline=D(2025, 2, 28),
        description="台账不规范",
    )
    services.mark_overdue(today=D(2025, 3, 1))
    Notice.objects.create(user=secretary_b, kind="problem_overdue", key="x", text="别人的通知")
    client = client_for("secretary_a")
    assert client.get(url("notices_unread")).json() == {"unread": 2}

    response = client.get(url("notices"))
    notices = list(response.context["page"].object_list)
    assert [n.key for n in notices] == [str(second.pk), str(first.pk)]  # newest first
    html = text(response)
    assert html.count("notice--unread") == 2 and "别人的通知" not in html
    assert url("problem", first) in html and "整改已于2025-01-31到期" in html

    assert client.post(url("notices_read"), {"notice": notices[1].pk}).status_code == 302
    assert Notice.objects.get(pk=notices[1].pk).read_at is not None
    assert Notice.objects.get(pk=notices[0].pk).read_at is None
    assert client.get(url("notices_unread")).json() == {"unread": 1}
    others = Notice.objects.get(user=secretary_b)
    assert client.post(url("notices_read"), {"notice": others.pk}).status_code == 404
    assert client.post(url("notices_read"), {"notice": "abc"}).status_code == 404
    assert client.post(url("notices_read"), {"all": "1"}).status_code == 302
    assert client.get(url("notices_unread")).json() == {"unread": 0}
    assert Notice.objects.get(user=secretary_b).read_at is None
    assert "data-read-all" not in text(client.get(url("notices")))


def test_the_menu_links_the_notices_without_a_query_for_the_count(client_for, client):
    html = text(client_for("secretary_a").get(url("problems")))
    assert f'data-unread-url="{url("notices_unread")}"' in html
    assert "督导整改" in html and url("problems") in html
    assert "campaigns/notices.js" in html
    login = text(client.get(reverse("portal:login")))
    assert "notices.js" not in login and "data-unread-url" not in login


@pytest.mark.parametrize("rows", [2, 8])
def test_the_notices_list_costs_the_same_queries_however_many(
    secretary_a, client_for, django_assert_num_queries, rows
):
    for i in range(rows):
        Notice.objects.create(user=secretary_a, kind="problem_overdue", key=str(i), text=f"通知{i}")
    # 1 session, 2 user, 3 count, 4 the page.
    with django_assert_num_queries(4):
        response = client_for("secretary_a").get(url("notices"))
    assert len(response.context["page"].object_list) == rows


# --- the secretary's home ------------------------------------------------------------------------


def test_the_secretarys_home_shows_their_overdue_problems(tree, group, client_for, inspector_a):
    problems = [
        make_problem(
            inspector_a,
            tree.branch_a,
            group,
            found=D(2025, 1, 1),
            deadline=D(2025, 1, 10 + i),
            description=f"逾期问题{i}",
        )
        for i in range(7)
    ]
    make_problem(inspector_a, tree.branch_a, group, description="未到期问题")
    services.mark_overdue()
    home = client_for("secretary_a").get(reverse("portal:home"), follow=True)
    html = text(home)
    assert "data-overdue-problems" in html and "整改已逾期" in html
    for problem in problems[:5]:
        assert url("problem", problem) in html
    assert url("problem", problems[5]) not in html  # the first five, then a link to all
    assert url("problems") + "?overdue=1" in html
    assert "未到期问题" not in html
    # Not on secretary_b's home, nor on branch_a's page for its inspector.
    assert "data-overdue-problems" not in text(
        client_for("secretary_b").get(reverse("portal:home"), follow=True)
    )
    page = client_for("inspector_a").get(reverse("portal:organization", args=[tree.branch_a.pk]))
    assert "data-overdue-problems" not in text(page)


@pytest.mark.parametrize("overdue", [1, 7])
def test_the_overdue_problems_cost_the_home_one_query(
    tree, group, client_for, inspector_a, django_assert_num_queries, overdue
):
    for i in range(overdue):
        make_problem(
            inspector_a, tree.branch_a, group, found=D(2025, 1, 1), deadline=D(2025, 1, 10 + i)
        )
    services.mark_overdue()
    client = client_for("secretary_a")
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("portal:organization", args=[tree.branch_a.pk]))
    # tests/branches/test_portal.py: 14 before, one more for the overdue problems.
    assert len(queries) == 15
    assert len(response.context["overdue_problems"]) == min(overdue, 6)
