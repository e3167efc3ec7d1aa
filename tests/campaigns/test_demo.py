"""The campaigns demo (`campaigns.demo`, built by `seed_demo`): the "十百千万" plan with live and
hand-entered targets, a theme-day campaign, a volunteer deployment, an inspection round with
problems in every state and their history, annual reports and a key-task list; the numbers agree
with the selectors, nothing is dated after today, every run is the same, and `--flush` removes it.

The small demo (two months of organizational life: last month's theme days) is seeded once for
the module, in a module-wide transaction rolled back at its end; each test runs in its own
savepoint, so the ones that flush and reseed leave it to the next."""

from __future__ import annotations

import datetime
from collections import Counter
from decimal import Decimal
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import DEFAULT_DB_ALIAS, transaction
from django.utils import timezone

from accounts import access
from accounts.models import Notice, Role, User
from branches.defaults import seed_activity_types
from branches.models import (
    ActivityRecord,
    ActivityType,
    ComplianceRule,
    Member,
    Organization,
    OrganizationKind,
)
from campaigns import rules, selectors, services
from campaigns.demo import FLUSHED, KEY_TASKS, TARGETS
from campaigns.models import (
    AnnualReport,
    Assessment,
    Campaign,
    CampaignActivity,
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
    Target,
    TargetSource,
    VisitLog,
    VisitMethod,
    VolunteerBatch,
    VolunteerTeam,
)
from evaluations.models import Designation, Program, ProgramKind
from pairings.models import Pairing

P = ProblemState
DAY = datetime.timedelta(days=1)
OVERDUE_NOTICE = services.OVERDUE_NOTICE


def seed(**options) -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out, **options)
    return out.getvalue()


@pytest.fixture(scope="module")
def demo_output(module_settings, django_db_setup, django_db_blocker):
    """The small demo with last month's theme days, seeded once for the module."""
    with django_db_blocker.unblock():
        outer = transaction.atomic(using=DEFAULT_DB_ALIAS)
        outer.__enter__()
        try:
            seed_activity_types(ActivityType, ComplianceRule)
            output = seed(scale="small", activity_months=2)
        except BaseException:
            transaction.set_rollback(True, using=DEFAULT_DB_ALIAS)
            outer.__exit__(None, None, None)
            raise
    yield output
    with django_db_blocker.unblock():
        transaction.set_rollback(True, using=DEFAULT_DB_ALIAS)
        outer.__exit__(None, None, None)


@pytest.fixture
def seeded(demo_output, db):
    return demo_output


def today() -> datetime.date:
    return timezone.localdate()


def campaign_of(kind: str) -> Campaign:
    if kind == CampaignKind.PLAN:
        return Campaign.objects.filter(kind=kind, targets__isnull=False).distinct().get()
    return Campaign.objects.get(kind=kind)


def campaigns_line(output: str) -> str:
    return next(line for line in output.splitlines() if line.startswith("专项活动"))


def snapshot() -> dict:
    """Everything the demo wrote, keyed by names and codes, never by primary key."""

    def rows(model, *fields):
        return sorted(model.objects.values_list(*fields), key=repr)

    problem = ["problem__organization__code", "problem__description", "problem__found_on"]
    return {
        "campaigns": rows(
            Campaign, "name", "kind", "starts_on", "ends_on", "owner", "topic", "theme_month"
        ),
        "targets": rows(Target, "campaign__name", "indicator", "goal", "source", "manual_progress"),
        "participations": rows(
            Participation, "organization__code", "members", "money", "note", "filed_at"
        ),
        "goods": rows(
            ParticipationGoods,
            "participation__organization__code",
            "item",
            "quantity",
            "unit_of_measure",
            "value",
        ),
        "tagged": rows(CampaignActivity, "record__organization__code", "record__date"),
        "deployments": rows(Deployment, "member__member_no", "batch__number", "team__name"),
        "groups": rows(InspectionGroup, "name", "towns", "members__username", "units__name"),
        "visits": rows(VisitLog, "group__name", "date", "method", "place", "notes"),
        "problems": rows(
            Problem,
            "organization__code",
            "group__name",
            "annual_report__year",
            "category",
            "description",
            "severity",
            "found_on",
            "deadline",
            "state",
            "overdue_since",
            "created_by__username",
        ),
        "events": rows(ProblemEvent, *problem, "from_state", "to_state", "by__username", "at"),
        "answers": rows(Rectification, *problem, "measures", "submitted_at"),
        "reports": rows(AnnualReport, "organization__code", "year", "assessment", "assessed_on"),
        "measures": rows(
            KeyMeasure, "task__title", "description", "organization__code", "deadline", "done_on"
        ),
        "notices": rows(Notice, "user__username", "kind", "text", "created_at"),
    }


# --- the plan and its targets --------------------------------------------------------------------


def test_five_campaigns_one_of_each_kind_and_a_line_of_figures(seeded):
    kinds = Counter(Campaign.objects.values_list("kind", flat=True))
    assert kinds == {
        CampaignKind.PLAN: 2,  # "十百千万" and the key-task list
        CampaignKind.THEME_DAY: 1,
        CampaignKind.VOLUNTEER: 1,
        CampaignKind.INSPECTION: 1,
    }
    line = campaigns_line(seeded)
    assert line.startswith("专项活动：5项（计划指标5项，实时统计2项）")
    assert "服务队5支，3个批次" in line and "任务11项，措施37项" in line


def test_the_plan_has_putians_four_targets_and_two_live_ones(seeded):
    plan = campaign_of(CampaignKind.PLAN)
    assert "十百千万" in plan.name
    progress = selectors.target_progress(plan)
    goals = {tp.target.indicator: tp.target.goal for tp in progress}
    for indicator, _unit, goal, _source in TARGETS[:4]:  # 10 bases, 100, 1,000, 10,000
        assert goals[indicator] == Decimal(goal)
    live = [tp for tp in progress if tp.target.source != TargetSource.MANUAL]
    assert {tp.target.source for tp in live} == {
        TargetSource.FIVE_STAR_AWARDED,
        TargetSource.MEMBERS_REGISTERED,
    }
    counts = selectors.live_counts(plan, {tp.target.source for tp in live})
    for tp in live:
        assert tp.progress == counts[tp.target.source]
    registered = next(tp for tp in live if tp.target.source == TargetSource.MEMBERS_REGISTERED)
    assert registered.progress == Member.objects.exclude(community="").count() > 0
    assert 0 < registered.progress < registered.target.goal  # the goal: every in-service member
    five_star = next(tp for tp in live if tp.target.source == TargetSource.FIVE_STAR_AWARDED)
    assert (
        five_star.progress
        == Designation.objects.filter(
            program__kind=ProgramKind.FIVE_STAR, awarded_on__year=plan.starts_on.year
        ).count()
    )
    for tp in progress:
        if tp.target.source == TargetSource.MANUAL:
            assert tp.progress == tp.target.manual_progress
            assert 0 <= tp.progress <= tp.target.goal
    assert any(tp.progress > 0 for tp in progress if tp.target.source == TargetSource.MANUAL)


def test_the_five_star_target_counts_a_title_once_awarded(seeded):
    plan = campaign_of(CampaignKind.PLAN)
    target = plan.targets.get(source=TargetSource.FIVE_STAR_AWARDED)
    before = next(tp.progress for tp in selectors.target_progress(plan) if tp.target == target)
    program = Program.objects.get(kind=ProgramKind.FIVE_STAR)
    branch = Organization.objects.filter(kind=OrganizationKind.BRANCH).order_by("code").first()
    Designation.objects.create(
        program=program,
        organization=branch,
        title=program.title,
        awarded_on=today(),
        valid_until=today() + 3 * 365 * DAY,
    )
    after = next(tp.progress for tp in selectors.target_progress(plan) if tp.target == target)
    assert after == before + 1


# --- the theme-day campaign ----------------------------------------------------------------------


def test_the_theme_day_campaign_is_last_month_on_its_topic(seeded):
    campaign = campaign_of(CampaignKind.THEME_DAY)
    last_month = (today().replace(day=1) - DAY).replace(day=1)
    assert campaign.topic == "献爱心、送温暖" and campaign.topic in campaign.name
    assert campaign.theme_month == last_month == campaign.starts_on
    assert campaign.ends_on == today().replace(day=1) - DAY
    filed = Participation.objects.filter(campaign=campaign)
    branches = Organization.objects.filter(kind=OrganizationKind.BRANCH).count()
    assert filed.count() >= branches // 3
    assert set(filed.values_list("organization__kind", flat=True)) == {OrganizationKind.BRANCH}
    assert ParticipationGoods.objects.filter(participation__campaign=campaign).exists()
    assert not filed.filter(members=0).exists()


def test_participation_totals_are_exact_and_a_branch_counts_once(seeded):
    campaign = campaign_of(CampaignKind.THEME_DAY)
    staff = User.objects.get(username="admin")
    totals = selectors.participation_totals(staff, campaign)
    filed = list(Participation.objects.filter(campaign=campaign))
    goods = list(ParticipationGoods.objects.filter(participation__campaign=campaign))
    total = totals["total"]
    assert total.money == sum((p.money for p in filed), Decimal("0.00"))
    assert isinstance(total.money, Decimal) and total.money.as_tuple().exponent == -2
    assert total.members == sum(p.members for p in filed)
    assert total.goods_value == sum((g.value for g in goods), Decimal("0.00"))
    by_item = Counter()
    for g in goods:
        by_item[(g.item, g.unit_of_measure)] += g.quantity
    assert {
        (line["item"], line["unit_of_measure"]): line["quantity"] for line in totals["goods"]
    } == (dict(by_item))
    filed_orgs = {p.organization_id for p in filed}
    tagged_orgs = set(
        CampaignActivity.objects.filter(campaign=campaign).values_list(
            "record__organization_id", flat=True
        )
    )
    assert filed_orgs & tagged_orgs  # filed and tagged: counted once
    assert tagged_orgs - filed_orgs  # tagged only: counted by its record
    assert total.organizations == len(filed_orgs | tagged_orgs)
    secretary1 = User.objects.get(username="secretary1")
    assert secretary1.organization_id in filed_orgs & tagged_orgs
    mine = selectors.participation_totals(secretary1, campaign)["total"]
    assert mine.organizations == 1


def test_tagged_records_are_the_branches_own_theme_days_of_that_month(seeded):
    campaign = campaign_of(CampaignKind.THEME_DAY)
    tags = CampaignActivity.objects.filter(campaign=campaign).select_related(
        "record__activity_type"
    )
    assert tags.exists()
    per_branch = Counter(t.record.organization_id for t in tags)
    assert set(per_branch.values()) == {1}
    for tag in tags:
        record = tag.record
        assert record.activity_type.code == "theme_day"
        assert campaign.starts_on <= record.date <= campaign.ends_on
    # The service refuses the same record twice: it already counts.
    record = tags.first().record
    with pytest.raises(ValidationError):
        services.tag_activity(User.objects.get(username="admin"), campaign, record)
    # An untagged theme day of the month can still be tagged by its secretary.
    secretary2 = User.objects.get(username="secretary2")
    untagged = ActivityRecord.objects.filter(
        organization=secretary2.organization,
        activity_type__code="theme_day",
        date__gte=campaign.starts_on,
        date__lte=campaign.ends_on,
    ).first()
    if untagged is not None:
        services.tag_activity(secretary2, campaign, untagged)


# --- volunteers ----------------------------------------------------------------------------------


def test_the_volunteer_deployment_has_five_teams_and_three_batches(seeded):
    campaign = campaign_of(CampaignKind.VOLUNTEER)
    assert VolunteerTeam.objects.filter(campaign=campaign).count() == 5
    batches = list(VolunteerBatch.objects.filter(campaign=campaign).order_by("number"))
    assert [b.number for b in batches] == [1, 2, 3]
    for batch, following in zip(batches, batches[1:], strict=False):
        assert batch.ends_on < following.starts_on
    for batch in batches:
        assert campaign.starts_on <= batch.starts_on <= batch.ends_on <= campaign.ends_on
    assert campaign.ends_on < today()
    deployed = Deployment.objects.filter(batch__campaign=campaign)
    assert deployed.count() >= 25
    assert len(set(deployed.values_list("member_id", flat=True))) == deployed.count()
    assert set(deployed.values_list("team__campaign", flat=True)) == {campaign.pk}
    assert len(set(deployed.values_list("team_id", flat=True))) == 5
    assert len(set(deployed.values_list("batch_id", flat=True))) == 3
    assert not deployed.filter(member__position__startswith="退休").exists()


# --- the inspection round ------------------------------------------------------------------------


def test_inspection_groups_of_demo_accounts_with_their_visits(seeded):
    campaign = campaign_of(CampaignKind.INSPECTION)
    groups = list(InspectionGroup.objects.filter(campaign=campaign).prefetch_related("members"))
    assert len(groups) == 4
    inspector1 = User.objects.get(username="inspector1")
    own_unit = inspector1.units.get()
    for group in groups:
        members = list(group.members.all())
        assert members
        assert all(u.email.endswith("@demo.invalid") for u in members)
        assert {u.role for u in members} <= {Role.STAFF, Role.INSPECTOR}
        assert group.units.exists()
        methods = set(group.visits.values_list("method", flat=True))
        assert methods == set(VisitMethod.values)
        for visit in group.visits.all():
            assert campaign.starts_on <= visit.date < today()
        if own_unit in group.units.all():
            assert inspector1 in members
    assert Problem.objects.filter(group__campaign=campaign).exists()
    # the towns visited come from the units' paired villages
    if Pairing.objects.exists():
        assert any(g.towns for g in groups)


def test_problems_in_every_state_with_a_consistent_history(seeded):
    inspected = Counter(Problem.objects.filter(group__isnull=False).values_list("state", flat=True))
    reported = Counter(
        Problem.objects.filter(annual_report__isnull=False).values_list("state", flat=True)
    )
    assert set(inspected) == set(P.values)
    assert set(reported) == set(P.values)
    problems = Problem.objects.select_related("organization", "group").prefetch_related(
        "events__by", "answers", "group__members"
    )
    for problem in problems:
        events = sorted(problem.events.all(), key=lambda e: (e.at, e.pk))
        assert events[0].from_state == "" and events[0].to_state == P.OPEN
        assert events[0].by == problem.created_by
        assert events[-1].to_state == problem.state
        for before, after in zip(events, events[1:], strict=False):
            assert after.from_state == before.to_state
            assert rules.may_move(before.to_state, after.to_state)
        for event in events[1:]:
            if event.by is not None:
                assert access.can(event.by, rules.MOVED_BY[event.to_state], problem)
            if event.to_state == P.SENT_BACK:
                assert event.note
        answers = sorted(problem.answers.all(), key=lambda a: a.submitted_at)
        submitted = [e for e in events if e.to_state == P.SUBMITTED]
        assert [a.submitted_at for a in answers] == [e.at for e in submitted]
        assert all(a.measures for a in answers)
        if problem.group is not None:
            assert access.can(problem.created_by, "inspection.record_problem", problem)
            assert problem.created_by in problem.group.members.all() or (
                problem.created_by.role == Role.STAFF
            )
        assert problem.found_on <= problem.deadline
        if problem.state == P.ACCEPTED:
            assert timezone.localtime(events[-1].at).date() <= problem.deadline


def test_overdue_problems_are_marked_and_their_secretaries_told(seeded):
    overdue = selectors.overdue_problems(User.objects.get(username="admin"))
    assert overdue.exists()
    for problem in Problem.objects.all():
        late = rules.is_overdue(problem.state, problem.deadline, today())
        assert (problem.overdue_since is not None) == late
        if late:
            assert problem.overdue_since == problem.deadline + DAY <= today()
    assert services.mark_overdue(today()) == 0  # the daily task finds nothing new
    secretaries = {
        u.organization_id: u for u in User.objects.filter(role=Role.SECRETARY, is_active=True)
    }
    notices = set(Notice.objects.filter(kind=OVERDUE_NOTICE).values_list("user_id", "key"))
    expected = {
        (secretaries[p.organization_id].pk, str(p.pk))
        for p in overdue
        if p.organization_id in secretaries
    }
    assert notices == expected and notices
    # secretary1's branch shows both: an open problem not yet due, and an overdue one
    secretary1 = User.objects.get(username="secretary1")
    own = selectors.visible_problems(secretary1)
    assert own.filter(state=P.OPEN, deadline__gte=today()).exists()
    assert selectors.overdue_problems(secretary1).exists()
    assert Notice.objects.filter(user=secretary1, kind=OVERDUE_NOTICE).exists()
    counts = selectors.problem_counts(secretary1)
    assert counts["overdue"] >= 1 and counts[P.OPEN] >= 1


def test_the_problem_flow_goes_on_from_the_demo(seeded):
    """The services take the demo's problems where they stand."""
    secretary1 = User.objects.get(username="secretary1")
    problem = selectors.visible_problems(secretary1).filter(state=P.OPEN).first()
    services.answer_problem(secretary1, problem, "已补齐会议记录")
    submitted = Problem.objects.filter(group__isnull=False, state=P.SUBMITTED).first()
    inspectors = submitted.group.members.filter(role=Role.INSPECTOR)
    checker = inspectors.first() or User.objects.get(username="admin")
    services.accept_problem(checker, submitted)
    assert submitted.events.order_by("at", "pk").last().to_state == P.ACCEPTED


# --- annual reports and key tasks ----------------------------------------------------------------


def test_annual_reports_for_last_year_with_assessments_and_problems(seeded):
    reports = AnnualReport.objects.all()
    assert reports.count() >= 10
    assert set(reports.values_list("year", flat=True)) == {today().year - 1}
    assessments = set(reports.values_list("assessment", flat=True))
    assert assessments <= set(Assessment.values) and len(assessments) >= 3
    assert not reports.filter(assessed_on__isnull=True).exists()
    assert not reports.filter(assessed_on__gte=today()).exists()
    kinds = set(reports.values_list("organization__kind", flat=True))
    assert kinds == {
        OrganizationKind.COMMITTEE,
        OrganizationKind.GENERAL_BRANCH,
        OrganizationKind.BRANCH,
    }
    from_reports = Problem.objects.filter(annual_report__isnull=False).select_related(
        "annual_report"
    )
    assert from_reports.count() >= 6
    for problem in from_reports:
        assert problem.group_id is None
        assert problem.organization_id == problem.annual_report.organization_id
        assert problem.found_on == problem.annual_report.assessed_on
        assert problem.annual_report.assessment != Assessment.GOOD
        assert problem.created_by.username == "admin"


def test_the_key_task_list_has_11_tasks_and_37_measures(seeded):
    tasks = KeyTask.objects.all()
    assert tasks.count() == 11 == len(KEY_TASKS)
    measures = KeyMeasure.objects.select_related("organization")
    assert measures.count() == 37
    assert set(tasks.values_list("campaign__kind", flat=True)) == {CampaignKind.PLAN}
    done = measures.filter(done_on__isnull=False)
    assert done.exists() and measures.filter(done_on__isnull=True).exists()
    assert not done.filter(done_on__gt=today()).exists()
    assert not measures.filter(progress="").exists()
    assert {m.organization.kind for m in measures} == {OrganizationKind.COMMITTEE}


def test_nothing_happened_after_today(seeded):
    now = timezone.now()
    assert not Campaign.objects.filter(starts_on__gt=today()).exists()
    assert not Campaign.objects.filter(created_at__gt=now).exists()
    for kind in (CampaignKind.THEME_DAY, CampaignKind.VOLUNTEER, CampaignKind.INSPECTION):
        assert campaign_of(kind).ends_on < today()
    assert not Participation.objects.filter(filed_at__gt=now).exists()
    assert not VisitLog.objects.filter(date__gt=today()).exists()
    assert not Problem.objects.filter(found_on__gt=today()).exists()
    assert not Problem.objects.filter(created_at__gt=now).exists()
    assert not ProblemEvent.objects.filter(at__gt=now).exists()
    assert not Rectification.objects.filter(submitted_at__gt=now).exists()
    assert not Notice.objects.filter(created_at__gt=now).exists()
    assert not KeyMeasure.objects.filter(done_on__gt=today()).exists()


# --- reproducible, and a flush removes it --------------------------------------------------------


def test_the_same_seed_gives_the_same_campaigns(seeded):
    first_output = seed(scale="small", seed=5, activity_months=1, flush=True)
    first = snapshot()
    assert first["problems"] and first["events"] and first["tagged"] and first["notices"]
    second_output = seed(scale="small", seed=5, activity_months=1, flush=True)
    assert snapshot() == first
    assert campaigns_line(second_output) == campaigns_line(first_output)


def test_flush_removes_every_campaign_row_and_a_reseed_works(seeded):
    from branches import demo

    assert Pairing.objects.exists() and Program.objects.exists()  # with their data too
    counts = {m: m.objects.count() for m in (Campaign, Problem, AnnualReport, KeyMeasure)}
    deleted = demo.flush()
    assert deleted["campaigns"] == counts[Campaign] == 5
    assert deleted["problems"] == counts[Problem]
    assert deleted["annual_reports"] == counts[AnnualReport]
    assert deleted["key_measures"] == counts[KeyMeasure] == 37
    assert deleted["overdue_notices"] >= 1
    for model in FLUSHED:
        assert not model.objects.exists(), model
    assert not Notice.objects.filter(kind=OVERDUE_NOTICE).exists()
    assert not Organization.objects.exists() and not Pairing.objects.exists()
    output = seed(scale="small", activity_months=1)
    assert Campaign.objects.count() == 5 and Problem.objects.exists()
    assert campaigns_line(output).startswith("专项活动：5项")
    output = seed(scale="small", activity_months=1, flush=True)  # over pairings and titles
    assert Campaign.objects.count() == 5 and KeyMeasure.objects.count() == 37
