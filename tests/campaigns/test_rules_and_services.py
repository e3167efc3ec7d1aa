"""Targets, participation, problems and rectification: the services and selectors."""

from __future__ import annotations

import datetime
from decimal import Decimal
from unittest import mock

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import Notice
from branches.models import Member
from campaigns import selectors, services
from campaigns.models import (
    Campaign,
    CampaignKind,
    Problem,
    ProblemState,
    Target,
    TargetSource,
)
from campaigns.services import GoodsInput, ParticipationInput, ProblemInput
from reminders import services as reminders
from tests.campaigns.conftest import today
from tests.conftest import add_record

pytestmark = pytest.mark.django_db

D = datetime.date
P = ProblemState
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def problem_for(user, organization, group=None, found=None, deadline=None):
    found = found or today() - datetime.timedelta(days=10)
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


# --- rectification -------------------------------------------------------------------------


def test_rectification_with_a_problem_sent_back_twice(tree, group, inspector_a, secretary_a):
    problem = problem_for(inspector_a, tree.branch_a, group)
    assert problem.state == P.OPEN
    services.start_rectifying(secretary_a, problem)
    for round_ in (1, 2):
        services.answer_problem(
            secretary_a,
            problem,
            f"第{round_}次整改：补齐记录",
            photos=[SimpleUploadedFile("整改.png", PNG)],
        )
        problem.refresh_from_db()
        assert problem.state == P.SUBMITTED
        services.send_back(inspector_a, problem, "佐证材料不足")
        problem.refresh_from_db()
        assert problem.state == P.SENT_BACK
    services.answer_problem(secretary_a, problem, "第3次整改：材料齐全")
    services.accept_problem(inspector_a, problem, "整改到位")
    problem.refresh_from_db()
    assert problem.state == P.ACCEPTED
    assert [e.to_state for e in problem.events.all()] == [
        P.OPEN,
        P.RECTIFYING,
        P.SUBMITTED,
        P.SENT_BACK,
        P.SUBMITTED,
        P.SENT_BACK,
        P.SUBMITTED,
        P.ACCEPTED,
    ]
    assert problem.answers.count() == 3 and problem.answers.first().photos.count() == 1
    with pytest.raises(ValidationError):  # accepted is final
        services.send_back(inspector_a, problem, "再看看")


@pytest.mark.parametrize("who", ["secretary_b", "inspector_city", "inspector_a_not_in_group"])
def test_nobody_else_moves_a_problem(
    tree, group, campaign, inspector_a, secretary_a, users, who, staff
):
    problem = problem_for(inspector_a, tree.branch_a, group)
    services.answer_problem(secretary_a, problem, "整改")
    user = users["inspector_a"] if who == "inspector_a_not_in_group" else users[who]
    if who == "inspector_a_not_in_group":
        group.members.remove(inspector_a)
    with pytest.raises(PermissionDenied):
        services.accept_problem(user, problem)
    with pytest.raises(PermissionDenied):
        services.send_back(user, problem, "不行")
    with pytest.raises(PermissionDenied):
        services.answer_problem(user, problem, "代为整改")
    problem.refresh_from_db()
    assert problem.state == P.SUBMITTED and problem.events.count() == 2


def test_a_secretary_cannot_answer_another_organizations_problem(
    tree, group, inspector_a, secretary_b
):
    problem = problem_for(inspector_a, tree.branch_a, group)
    with pytest.raises(PermissionDenied) as caught:
        services.answer_problem(secretary_b, problem, "整改")
    assert "责任" in str(caught.value)
    assert not problem.answers.exists()


def test_the_inspector_does_not_answer_and_the_secretary_does_not_accept(
    tree, group, inspector_a, secretary_a
):
    problem = problem_for(inspector_a, tree.branch_a, group)
    with pytest.raises(PermissionDenied):
        services.answer_problem(inspector_a, problem, "整改")
    services.answer_problem(secretary_a, problem, "整改")
    with pytest.raises(PermissionDenied):
        services.accept_problem(secretary_a, problem)


def test_a_deadline_before_the_problem_was_found_is_refused(tree, group, inspector_a):
    with pytest.raises(ValidationError) as caught:
        problem_for(inspector_a, tree.branch_a, group, found=D(2026, 5, 10), deadline=D(2026, 5, 1))
    assert "不能早于" in " ".join(caught.value.message_dict["deadline"])
    assert not Problem.objects.exists()


def test_an_inspector_records_problems_only_as_a_group_member_in_scope(
    tree, group, inspector_a, inspector_city
):
    with pytest.raises(ValidationError):
        problem_for(inspector_city, tree.branch_b, None)  # no group
    with pytest.raises(PermissionDenied):
        problem_for(inspector_a, tree.branch_b, group)  # outside their units
    assert not Problem.objects.exists()


# --- overdue ---------------------------------------------------------------------------------


def test_overdue_marking_is_idempotent_and_the_notice_is_sent_once(
    tree, group, inspector_a, secretary_a, settings
):
    settings.NOTICE_EMAIL = True
    secretary_a.email = "sec_a@example.invalid"
    secretary_a.save()
    problem = problem_for(
        inspector_a, tree.branch_a, group, found=D(2026, 10, 1), deadline=D(2026, 11, 30)
    )
    assert services.mark_overdue(today=D(2026, 11, 30)) == 0  # due today: not yet overdue
    assert services.mark_overdue(today=D(2026, 12, 1)) == 1
    assert services.mark_overdue(today=D(2026, 12, 1)) == 0
    assert services.mark_overdue(today=D(2026, 12, 2)) == 0
    problem.refresh_from_db()
    assert problem.overdue_since == D(2026, 12, 1)
    assert Notice.objects.filter(user=secretary_a).count() == 1
    # The e-mail is the reminders app's delivery (reminders.services.deliver_due), sent once.
    reminders.deliver_due()
    reminders.deliver_due()
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["sec_a@example.invalid"]
    assert list(selectors.overdue_problems(secretary_a)) == [problem]


def test_overdue_uses_shanghai_dates(tree, group, inspector_a):
    """At 23:30 UTC on 30 November it is already 1 December in Shanghai."""
    problem_for(inspector_a, tree.branch_a, group, found=D(2026, 10, 1), deadline=D(2026, 11, 30))
    late_utc = datetime.datetime(2026, 11, 30, 23, 30, tzinfo=datetime.UTC)
    with mock.patch("django.utils.timezone.now", return_value=late_utc):
        assert services.mark_overdue() == 1


def test_an_accepted_problem_is_never_overdue(tree, group, inspector_a, secretary_a):
    problem = problem_for(
        inspector_a, tree.branch_a, group, found=D(2026, 10, 1), deadline=D(2026, 10, 30)
    )
    services.answer_problem(secretary_a, problem, "整改")
    services.accept_problem(inspector_a, problem)
    assert services.mark_overdue(today=D(2026, 12, 1)) == 0


# --- targets ---------------------------------------------------------------------------------


def test_a_live_target_equals_a_hand_count_in_constant_queries(
    tree, campaign, activity_types, django_assert_num_queries
):
    Target.objects.create(
        campaign=campaign,
        indicator="在社区报到党员",
        unit_of_measure="名",
        goal=10,
        source=TargetSource.MEMBERS_REGISTERED,
    )
    Target.objects.create(
        campaign=campaign,
        indicator="主题党日",
        unit_of_measure="次",
        goal=5,
        source=TargetSource.THEME_DAYS_ON_TOPIC,
    )
    Target.objects.create(
        campaign=campaign,
        indicator="千人纪念活动",
        unit_of_measure="人",
        goal=1000,
        manual_progress=Decimal("350"),
    )
    campaign.topic = "学习二十大"
    campaign.save()
    Member.objects.filter(pk=tree.members["a1"].pk).update(community="城南社区")
    add_record(tree.branch_a, activity_types["theme_day"], today(), topic="学习二十大精神")
    add_record(tree.branch_b, activity_types["theme_day"], today(), topic="其他")

    def progress():
        with django_assert_num_queries(3):  # targets, members, theme days
            return {p.target.indicator: p.progress for p in selectors.target_progress(campaign)}

    assert progress() == {"在社区报到党员": 1, "主题党日": 1, "千人纪念活动": Decimal("350")}
    Member.objects.exclude(community="").count()
    Member.objects.update(community="某社区")
    for day in range(1, 6):
        add_record(
            tree.branch_a2,
            activity_types["theme_day"],
            today() - datetime.timedelta(days=day),
            topic="学习二十大",
        )
    hand = Member.objects.count()
    assert progress() == {"在社区报到党员": hand, "主题党日": 6, "千人纪念活动": Decimal("350")}


# --- participation ---------------------------------------------------------------------------


def test_participation_totals_are_exact_and_a_tagged_theme_day_counts_once(
    tree, secretary_a, staff, activity_types
):
    campaign = Campaign.objects.create(
        name="献爱心、送温暖",
        kind=CampaignKind.THEME_DAY,
        starts_on=today().replace(day=1),
        ends_on=today(),
        topic="献爱心",
        theme_month=today(),
    )
    services.file_participation(
        secretary_a,
        ParticipationInput(
            campaign,
            tree.branch_a,
            members=12,
            money=Decimal("0.10"),
            goods=[GoodsInput("棉被", Decimal("206"), "床", Decimal("20600.00"))],
        ),
    )
    services.file_participation(
        staff,
        ParticipationInput(campaign, tree.branch_b, members=8, money=Decimal("0.20")),
    )
    record = add_record(tree.branch_a, activity_types["theme_day"], today(), topic="献爱心")
    other = add_record(tree.branch_a2, activity_types["theme_day"], today(), topic="献爱心")
    services.tag_activity(secretary_a, campaign, record)
    services.tag_activity(staff, campaign, other)
    with pytest.raises(ValidationError):
        services.tag_activity(secretary_a, campaign, record)  # once
    totals = selectors.participation_totals(staff, campaign)
    assert totals["total"].money == Decimal("0.30")
    assert totals["total"].members == 20
    # branch_a filed and tagged: once; branch_a2 only tagged; branch_b only filed.
    assert totals["total"].organizations == 3
    assert totals["goods"] == [
        {
            "item": "棉被",
            "unit_of_measure": "床",
            "quantity": Decimal("206.00"),
            "value": Decimal("20600.00"),
        }
    ]
    mine = selectors.participation_totals(secretary_a, campaign)
    assert mine["total"].organizations == 1 and mine["total"].money == Decimal("0.10")


def test_bad_participation_is_refused_and_nothing_saved(tree, campaign, secretary_a, secretary_b):
    with pytest.raises(ValidationError) as caught:
        services.file_participation(
            secretary_a,
            ParticipationInput(campaign, tree.branch_a, members=-1, money=Decimal("-5")),
        )
    assert {"members", "money"} <= set(caught.value.message_dict)
    with pytest.raises(PermissionDenied):
        services.file_participation(secretary_b, ParticipationInput(campaign, tree.branch_a))
    assert not campaign.participations.exists()
