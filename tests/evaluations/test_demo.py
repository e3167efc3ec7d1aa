"""The evaluations demo (`evaluations.demo`, built by `seed_demo`): two past programs reviewed
and decided by the services' rules, one open program, the same on every run; `--flush` removes
it.

The small demo is seeded once for the module (a module-wide transaction, rolled back at its end);
each test runs in its own savepoint, so the ones that flush and reseed leave it to the next."""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import DEFAULT_DB_ALIAS, transaction
from django.utils import timezone

from accounts import access
from accounts.models import Role, User
from branches.models import Organization
from evaluations import rules, selectors, services
from evaluations.demo import FLUSHED
from evaluations.models import (
    Application,
    ApplicationStatus,
    Criterion,
    Designation,
    DesignationStatus,
    Program,
    ReReview,
    ReReviewOutcome,
    ReviewSheet,
    Score,
    SelfAssessment,
)
from tests.evaluations.conftest import full_marks

S = ApplicationStatus


def seed(**options) -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out, **options)
    return out.getvalue()


@pytest.fixture(scope="module")
def demo_output(module_settings, django_db_setup, django_db_blocker):
    """The small demo (no organizational life: the evaluations do not need it), seeded once."""
    with django_db_blocker.unblock():
        outer = transaction.atomic(using=DEFAULT_DB_ALIAS)
        outer.__enter__()
        try:
            output = seed(scale="small", activity_months=0)
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


def past_programs() -> list[Program]:
    return [p for p in Program.objects.order_by("year") if p.closes_on < today()]


def snapshot() -> dict:
    """Everything the demo wrote, keyed by names and codes, never by primary key."""

    def rows(model, *fields):
        return sorted(model.objects.values_list(*fields), key=repr)

    app = ["application__program__name", "application__organization__code"]
    return {
        "programs": rows(
            Program,
            "name",
            "kind",
            "year",
            "opens_on",
            "closes_on",
            "quota",
            "title",
            "valid_years",
            "trimmed_mean_from",
        ),
        "applications": rows(
            Application,
            "program__name",
            "organization__code",
            "status",
            "stage__order",
            "summary",
            "nominated",
            "created_by__username",
            "created_at",
            "submitted_at",
            "decided_at",
        ),
        "assessments": rows(SelfAssessment, *app, "criterion__name", "score", "evidence"),
        "sheets": rows(ReviewSheet, *app, "stage__order", "reviewer__username", "total"),
        "scores": rows(
            Score,
            "sheet__application__organization__code",
            "sheet__stage__order",
            "sheet__reviewer__username",
            "criterion__name",
            "score",
            "comment",
        ),
        "titles": rows(
            Designation,
            "program__name",
            "organization__code",
            "awarded_on",
            "valid_until",
            "status",
            "re_review_listed_on",
            "revoked_on",
            "revoke_reason",
        ),
        "re_reviews": rows(
            ReReview, "designation__organization__code", "due_on", "outcome", "reason"
        ),
    }


def evaluations_line(output: str) -> str:
    return next(line for line in output.splitlines() if line.startswith("评比表彰"))


# --- the programs ------------------------------------------------------------------------------


def test_two_past_programs_and_one_open(seeded):
    past = past_programs()
    assert len(past) == 2 and Program.objects.count() == 3
    assert past[0].year < past[1].year < today().year
    (open_,) = [p for p in Program.objects.all() if rules.window_open(p, today())]
    assert open_.year == today().year
    for program in Program.objects.all():
        kinds = set(program.criteria.values_list("organization_kind", flat=True))
        assert kinds and program.stages.count() == 4
        assert set(program.quota) == kinds
        assert program.reviewers.filter(role=Role.INSPECTOR).exists()
    assert evaluations_line(seeded).startswith("评比表彰：评比项目3个（正在申报1个）")


def test_applications_of_the_past_programs(seeded):
    for program in past_programs():
        statuses = Counter(program.applications.values_list("status", flat=True))
        assert statuses[S.AWARDED] and statuses[S.NOT_AWARDED]
        assert statuses[S.DRAFT] and statuses[S.WITHDRAWN]  # never submitted, or withdrawn
        assert not statuses[S.SUBMITTED] and not statuses[S.UNDER_REVIEW]  # all decided
        kinds = set(program.applications.values_list("organization__kind", flat=True))
        assert kinds == {"committee", "general_branch", "branch"}
    apps = Application.objects.filter(program__in=past_programs())
    # drafts and withdrawn ones never reached a reviewer; decided ones have a date
    assert not ReviewSheet.objects.filter(application__status__in=[S.DRAFT, S.WITHDRAWN]).exists()
    assert not apps.filter(status__in=[S.DRAFT, S.WITHDRAWN], stage__isnull=False).exists()
    assert not apps.filter(status=S.DRAFT, submitted_at__isnull=False).exists()
    decided = apps.filter(status__in=[S.AWARDED, S.NOT_AWARDED])
    assert not decided.filter(decided_at__isnull=True).exists()
    assert not decided.filter(submitted_at__isnull=True).exists()


def test_self_assessments_for_every_criterion(seeded):
    for app in Application.objects.select_related("organization", "program"):
        criteria = set(selectors.criteria_for(app).values_list("pk", flat=True))
        given = dict(app.self_assessments.values_list("criterion_id", "score"))
        if app.nominated:
            assert not given  # staff nominate without a self-assessment
            continue
        assert set(given) == criteria
        if app.status != S.DRAFT:
            assert None not in given.values()
        for criterion in Criterion.objects.filter(pk__in=given):
            score = given[criterion.pk]
            assert score is None or 0 <= score <= criterion.max_score


def test_awards_within_the_quota(seeded):
    for program in past_programs():
        awarded = Counter(program.designations.values_list("organization__kind", flat=True))
        assert awarded
        for kind, n in awarded.items():
            assert n <= program.quota[kind]


def test_an_awarded_application_has_its_title(seeded):
    awarded = Application.objects.filter(status=S.AWARDED)
    assert set(awarded.values_list("pk", flat=True)) == set(
        Designation.objects.values_list("application_id", flat=True)
    )
    for title in Designation.objects.select_related("application", "program"):
        app = title.application
        assert app.program_id == title.program_id
        assert app.organization_id == title.organization_id
        assert title.title == title.program.title
        assert title.awarded_on == timezone.localtime(app.decided_at).date()
        if not title.re_reviews.filter(outcome=ReReviewOutcome.KEPT).exists():
            assert title.valid_until == rules.years_after(
                title.awarded_on, title.program.valid_years
            )


def test_a_revoked_title_stays_with_its_re_review_and_reason(seeded):
    revoked = Designation.objects.filter(status=DesignationStatus.REVOKED)
    assert revoked.exists()
    for title in revoked:
        review = title.re_reviews.get()
        assert review.outcome == ReReviewOutcome.REVOKED
        assert review.reason and title.revoke_reason == review.reason
        assert title.revoked_on == review.decided_on <= today()
        assert review.decided_by.username == "admin"
        assert title not in selectors.honour_roll()


def test_a_kept_title_runs_another_term(seeded):
    kept = ReReview.objects.filter(outcome=ReReviewOutcome.KEPT).select_related(
        "designation__program"
    )
    assert kept.exists()
    for review in kept:
        title = review.designation
        assert title.status == DesignationStatus.CURRENT and title.re_review_listed_on is None
        assert review.due_on == rules.years_after(title.awarded_on, title.program.valid_years)
        assert title.valid_until == rules.years_after(
            max(review.due_on, review.decided_on), title.program.valid_years
        )
        assert title.valid_until > today()


def test_titles_come_due_and_wait_for_their_re_review(seeded):
    waiting = selectors.due_for_re_review()
    assert waiting.exists()
    assert all(t.re_review_listed_on is not None for t in waiting)
    assert services.list_due_re_reviews() == []  # the beat listed them already
    staff = User.objects.get(username="admin")
    title = waiting.first()
    services.re_review(staff, title, ReReviewOutcome.KEPT, "复查合格")
    title.refresh_from_db()
    assert title.valid_until > today() and title.re_review_listed_on is None


# --- review: the numbers agree with the rules and the selectors ---------------------------------


def test_sheet_totals_are_the_rules_total_of_their_scores(seeded):
    scores = defaultdict(dict)
    for sheet_id, criterion_id, score in Score.objects.values_list(
        "sheet_id", "criterion_id", "score"
    ):
        scores[sheet_id][criterion_id] = score
    criteria = {c.pk: c for c in Criterion.objects.all()}
    sheets = ReviewSheet.objects.select_related("application__organization")
    assert sheets.exists()
    for sheet in sheets:
        app = sheet.application
        own = [
            c
            for c in criteria.values()
            if c.program_id == app.program_id and c.organization_kind == app.organization.kind
        ]
        assert set(scores[sheet.pk]) == {c.pk for c in own}  # every criterion scored
        assert sheet.total == rules.sheet_total(scores[sheet.pk], own)
        assert sheet.submitted_at is not None
        assert all(0 <= s <= criteria[pk].max_score for pk, s in scores[sheet.pk].items())


def test_stage_results_decide_as_the_services_would(seeded):
    apps = list(
        Application.objects.filter(status__in=[S.AWARDED, S.NOT_AWARDED]).select_related(
            "program", "stage"
        )
    )
    results = selectors.stage_results(apps)
    for app in apps:
        stages = list(app.program.stages.order_by("order"))
        reached = [s for s in stages if s.order <= app.stage.order]
        assert set(results[app.pk]) == {s.pk for s in reached}  # scored at each stage reached
        for stage in reached[:-1]:
            assert results[app.pk][stage.pk] >= stage.pass_threshold
        last = results[app.pk][app.stage_id]
        if app.status == S.AWARDED:
            assert app.stage_id == stages[-1].pk
            assert last >= app.stage.pass_threshold
        elif app.stage_id != stages[-1].pk:
            assert last < app.stage.pass_threshold  # failed there: not awarded
    # the quota chose the best of those who passed the last stage
    for program in past_programs():
        last = program.stages.order_by("order").last()
        finalists = [a for a in apps if a.program_id == program.pk and a.stage_id == last.pk]
        by_kind = defaultdict(list)
        for a in finalists:
            if results[a.pk][last.pk] >= last.pass_threshold:
                by_kind[a.organization.kind].append(a)
        for group in by_kind.values():
            awarded = [results[a.pk][last.pk] for a in group if a.status == S.AWARDED]
            others = [results[a.pk][last.pk] for a in group if a.status != S.AWARDED]
            if awarded and others:
                assert min(awarded) >= max(others)


def test_two_to_three_reviewers_none_scoring_their_own(seeded):
    sheets = ReviewSheet.objects.select_related(
        "reviewer__organization", "application__organization", "application__program"
    )
    per_stage = Counter(sheets.values_list("application_id", "stage_id"))
    assert set(per_stage.values()) <= {2, 3} and 3 in per_stage.values()
    for sheet in sheets:
        assert not rules.conflict_of_interest(sheet.reviewer, sheet.application.organization)
        assert access.can(sheet.reviewer, "evaluation.score", sheet.application)
        assert sheet.reviewer.email.endswith("@demo.invalid")  # a demo account


def test_the_trimmed_mean_is_used_where_the_program_says(seeded):
    trimmed = [p for p in past_programs() if p.trimmed_mean_from == 3]
    assert trimmed
    sheets = ReviewSheet.objects.filter(application__program=trimmed[0])
    three = Counter(sheets.values_list("application_id", "stage_id"))
    app_id, stage_id = next(key for key, n in three.items() if n == 3)
    totals = sorted(
        sheets.filter(application_id=app_id, stage_id=stage_id).values_list("total", flat=True)
    )
    app = Application.objects.select_related("program").get(pk=app_id)
    assert selectors.stage_results([app])[app_id][stage_id] == totals[1]  # the middle one


# --- the open program ----------------------------------------------------------------------------


def test_the_open_program_takes_applications(seeded):
    (program,) = [p for p in Program.objects.all() if rules.window_open(p, today())]
    statuses = Counter(program.applications.values_list("status", flat=True))
    assert statuses[S.DRAFT] and statuses[S.SUBMITTED]
    assert set(statuses) <= {S.DRAFT, S.SUBMITTED}  # none decided
    assert not ReviewSheet.objects.filter(application__program=program).exists()
    secretary1 = User.objects.get(username="secretary1")
    mine = selectors.visible_applications(secretary1).get(program=program)
    assert mine.status == S.DRAFT and mine.created_by == secretary1
    assert mine.self_assessments.filter(score__isnull=True).exists()  # half filled in
    secretary2 = User.objects.get(username="secretary2")
    assert not selectors.visible_applications(secretary2).filter(program=program).exists()
    application = services.save_application(
        secretary2, full_marks(program, secretary2.organization)
    )
    assert services.submit_application(secretary2, application).status == S.SUBMITTED


def test_nothing_is_dated_after_now(seeded):
    now = timezone.now()
    assert not Application.objects.filter(created_at__gt=now).exists()
    assert not Application.objects.filter(submitted_at__gt=now).exists()
    assert not Application.objects.filter(decided_at__gt=now).exists()
    assert not ReviewSheet.objects.filter(submitted_at__gt=now).exists()
    assert not Designation.objects.filter(awarded_on__gt=today()).exists()
    assert not ReReview.objects.filter(decided_on__gt=today()).exists()
    for app in Application.objects.filter(submitted_at__isnull=False):
        assert app.created_at <= app.submitted_at
        assert app.program.opens_on <= timezone.localtime(app.submitted_at).date()
        assert timezone.localtime(app.submitted_at).date() <= app.program.closes_on


# --- reproducible, and a flush removes it --------------------------------------------------------


def test_the_same_seed_gives_the_same_evaluations(seeded):
    first_output = seed(scale="small", seed=5, activity_months=0, flush=True)
    first = snapshot()
    assert first["applications"] and first["scores"] and first["titles"]
    second_output = seed(scale="small", seed=5, activity_months=0, flush=True)
    assert snapshot() == first
    assert evaluations_line(second_output) == evaluations_line(first_output)


def test_flush_removes_every_evaluation_row_and_a_reseed_works(seeded):
    counts = {model: model.objects.count() for model in (Program, Application, Designation)}
    output = seed(scale="small", activity_months=0, flush=True)
    assert (
        f"已删除：评比项目{counts[Program]}个，申报{counts[Application]}份，"
        f"称号{counts[Designation]}个。"
    ) in output
    assert Program.objects.count() == 3 and Designation.objects.exists()
    from branches import demo

    deleted = demo.flush()
    assert deleted["programs"] == 3 and deleted["applications"] and deleted["designations"]
    for model in FLUSHED:
        assert not model.objects.exists(), model
    assert not Organization.objects.exists()
    assert not User.objects.filter(email__endswith="@demo.invalid").exists()
    seed(scale="small", activity_months=0)
    assert Program.objects.count() == 3
    assert Decimal(0) < ReviewSheet.objects.order_by("total").last().total
