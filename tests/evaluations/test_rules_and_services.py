"""The evaluation cycle: apply, submit, review by stages, award, re-review; and its rules."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import Role, User
from branches.compliance import compute_compliance
from branches.models import Organization
from branches.periods import Period
from evaluations import rules, selectors, services
from evaluations.models import (
    Application,
    ApplicationStatus,
    Criterion,
    Designation,
    DesignationStatus,
    Evidence,
    ReReviewOutcome,
)
from evaluations.services import ScoreInput
from tests.conftest import add_record
from tests.evaluations.conftest import full_marks, today

pytestmark = pytest.mark.django_db

D = datetime.date
S = ApplicationStatus
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def reviewer(name, tree=None, organization=None):
    return User.objects.create_user(
        username=name,
        password="x-123456789",
        role=Role.INSPECTOR,
        organization=organization,
    )


def scores_for(application, points):
    criteria = Criterion.objects.filter(
        program=application.program, organization_kind=application.organization.kind
    )
    return [ScoreInput(c.pk, Decimal(points), "良好") for c in criteria]


@pytest.fixture
def submitted(tree, program, secretary_a):
    application = services.save_application(
        secretary_a,
        full_marks(program, tree.branch_a),
    )
    return services.submit_application(secretary_a, application)


# --- the rules, as plain functions ------------------------------------------------------------


def test_a_stage_result_is_the_mean_or_the_trimmed_mean():
    values = [Decimal(v) for v in ("80", "90", "70")]
    assert rules.stage_result(values, 5) == Decimal("80.00")
    five = [Decimal(v) for v in ("60", "80", "85", "90", "100")]
    assert rules.stage_result(five, 5) == Decimal("85.00")  # 60 and 100 dropped
    assert rules.stage_result(five, 0) == Decimal("83.00")  # never trimmed
    assert rules.stage_result([], 5) is None


def test_transitions():
    assert rules.may_move(S.DRAFT, S.SUBMITTED)
    assert rules.may_move(S.SUBMITTED, S.WITHDRAWN)
    assert not rules.may_move(S.UNDER_REVIEW, S.WITHDRAWN)
    assert not rules.may_move(S.WITHDRAWN, S.UNDER_REVIEW)
    assert not rules.may_move(S.AWARDED, S.NOT_AWARDED)


# --- the state machine end to end --------------------------------------------------------------


def test_draft_to_award_and_re_review(tree, program, secretary_a, staff, inspector_a):
    application = services.save_application(
        secretary_a,
        full_marks(program, tree.branch_a),
    )
    services.save_application(
        secretary_a,
        services.ApplicationInput(
            program=program,
            organization=tree.branch_a,
            attachments=[SimpleUploadedFile("证明.png", PNG)],
        ),
        application,
    )
    assert application.attachments.count() == 1
    assert application.status == S.DRAFT
    application = services.submit_application(secretary_a, application)
    assert application.status == S.SUBMITTED
    application = services.start_review(staff, application)
    assert application.status == S.UNDER_REVIEW and application.stage.order == 1
    for stage_order in (1, 2, 3, 4):
        services.submit_sheet(inspector_a, application, scores_for(application, "17"))
        services.submit_sheet(staff, application, scores_for(application, "19"))
        application = services.close_stage(staff, application)
        assert application.status == S.UNDER_REVIEW
        if stage_order < 4:
            assert application.stage.order == stage_order + 1
    result = selectors.stage_results([application])[application.pk]
    assert set(result.values()) == {Decimal("90.00")}  # (85 + 95) / 2 at each stage
    application = services.decide(staff, application, award=True, on=D(2026, 12, 1))
    assert application.status == S.AWARDED
    title = Designation.objects.get(application=application)
    assert (title.awarded_on, title.valid_until) == (D(2026, 12, 1), D(2029, 12, 1))
    # Re-review: kept for another term, then revoked with a reason; history stays.
    services.re_review(staff, title, ReReviewOutcome.KEPT, "复查合格", on=D(2029, 11, 20))
    title.refresh_from_db()
    assert title.valid_until == D(2032, 12, 1) and title.status == DesignationStatus.CURRENT
    services.re_review(staff, title, ReReviewOutcome.REVOKED, "组织生活不规范", on=D(2030, 5, 1))
    title.refresh_from_db()
    assert title.status == DesignationStatus.REVOKED and title.revoke_reason == "组织生活不规范"
    assert title.re_reviews.count() == 2
    assert Designation.objects.filter(pk=title.pk).exists()  # kept in the history
    assert title not in selectors.honour_roll()


def test_failing_a_stage_is_not_awarded(submitted, staff, inspector_a):
    application = services.start_review(staff, submitted)
    services.submit_sheet(inspector_a, application, scores_for(application, "8"))
    application = services.close_stage(staff, application)
    assert application.status == S.NOT_AWARDED
    with pytest.raises(ValidationError):
        services.decide(staff, application, award=True)


def test_a_secretary_cannot_edit_a_submitted_application(tree, program, submitted, secretary_a):
    with pytest.raises(ValidationError) as caught:
        services.save_application(secretary_a, full_marks(program, tree.branch_a), submitted)
    assert "已提交" in " ".join(caught.value.messages)


def test_withdrawn_before_review_and_never_scored(submitted, secretary_a, staff, inspector_a):
    application = services.withdraw_application(secretary_a, submitted)
    assert application.status == S.WITHDRAWN
    with pytest.raises(ValidationError):
        services.start_review(staff, application)
    with pytest.raises(ValidationError) as caught:
        services.submit_sheet(inspector_a, application, scores_for(application, "10"))
    assert "评审中" in " ".join(caught.value.messages)


def test_no_withdrawal_once_under_review(submitted, secretary_a, staff):
    services.start_review(staff, submitted)
    with pytest.raises(ValidationError):
        services.withdraw_application(secretary_a, submitted)


# --- the window, uniqueness, freeze --------------------------------------------------------------


def test_one_application_per_organization_per_program(tree, program, submitted, secretary_a):
    with pytest.raises(ValidationError) as caught:
        services.save_application(secretary_a, full_marks(program, tree.branch_a))
    assert "已申报" in " ".join(caught.value.messages)
    assert Application.objects.count() == 1


def test_nothing_after_the_window_closes(tree, program, secretary_a):
    program.closes_on = today() - datetime.timedelta(days=1)
    program.save()
    with pytest.raises(ValidationError) as caught:
        services.save_application(secretary_a, full_marks(program, tree.branch_a))
    assert "申报时间" in " ".join(caught.value.messages)
    assert not Application.objects.exists()


def test_a_draft_cannot_be_submitted_after_the_deadline(tree, program, secretary_a):
    application = services.save_application(secretary_a, full_marks(program, tree.branch_a))
    program.closes_on = today() - datetime.timedelta(days=1)
    program.save()
    with pytest.raises(ValidationError):
        services.submit_application(secretary_a, application)


def test_criteria_freeze_once_the_window_opens_or_applications_exist(tree, program, secretary_a):
    with pytest.raises(ValidationError) as caught:
        services.check_criteria_may_change(program)  # the window opened last week
    assert "冻结" in " ".join(caught.value.messages)
    program.opens_on = today() + datetime.timedelta(days=3)
    program.save()
    services.check_criteria_may_change(program)  # before it opens: may change
    Application.objects.create(program=program, organization=tree.branch_a)
    with pytest.raises(ValidationError):
        services.check_criteria_may_change(program)


def test_staff_nominate(tree, program, staff, secretary_a):
    application = services.nominate(staff, program, tree.branch_a2)
    assert application.status == S.SUBMITTED and application.nominated
    with pytest.raises(PermissionDenied):
        services.nominate(secretary_a, program, tree.branch_a)


# --- bad input ----------------------------------------------------------------------------------


def test_a_score_outside_the_range_is_refused_and_nothing_saved(submitted, staff, inspector_a):
    application = services.start_review(staff, submitted)
    bad = scores_for(application, "18")
    bad[0] = ScoreInput(bad[0].criterion_id, Decimal("21"), "")
    with pytest.raises(ValidationError) as caught:
        services.submit_sheet(inspector_a, application, bad)
    assert "0" in " ".join(caught.value.messages) and "20" in " ".join(caught.value.messages)
    assert not application.sheets.exists()
    with pytest.raises(ValidationError):
        services.submit_sheet(inspector_a, application, scores_for(application, "-1"))


def test_a_self_assessment_outside_the_range_is_refused(tree, program, secretary_a):
    with pytest.raises(ValidationError):
        services.save_application(
            secretary_a, full_marks(program, tree.branch_a, points=Decimal("25"))
        )
    assert not Application.objects.exists()


def test_a_reviewer_never_scores_their_own_organization(tree, program, submitted, staff):
    own = reviewer("reviewer_a1", organization=tree.committee_a)  # above branch_a
    program.reviewers.add(own)
    application = services.start_review(staff, submitted)
    with pytest.raises(ValidationError) as caught:
        services.submit_sheet(own, application, scores_for(application, "18"))
    assert "不能" in " ".join(caught.value.messages)
    assert not application.sheets.exists()


def test_a_reviewer_scores_once_per_stage(submitted, staff, inspector_a):
    application = services.start_review(staff, submitted)
    services.submit_sheet(inspector_a, application, scores_for(application, "18"))
    with pytest.raises(ValidationError):
        services.submit_sheet(inspector_a, application, scores_for(application, "18"))


def test_only_assigned_inspectors_score(submitted, staff, inspector_city):
    application = services.start_review(staff, submitted)
    with pytest.raises(PermissionDenied):
        services.submit_sheet(inspector_city, application, scores_for(application, "18"))


# --- what reviewers see ---------------------------------------------------------------------


def test_reviewers_see_others_scores_only_after_their_own(submitted, staff, inspector_a):
    application = services.start_review(staff, submitted)
    services.submit_sheet(staff, application, scores_for(application, "19"))
    assert list(selectors.sheets_visible_to(inspector_a, application)) == []
    services.submit_sheet(inspector_a, application, scores_for(application, "17"))
    assert selectors.sheets_visible_to(inspector_a, application).count() == 2
    assert selectors.sheets_visible_to(staff, application).count() == 2


def test_scope_of_applications(
    tree, program, submitted, secretary_a, secretary_b, inspector_a, inspector_city, staff
):
    assert list(selectors.visible_applications(secretary_a)) == [submitted]
    assert list(selectors.visible_applications(secretary_b)) == []
    assert list(selectors.visible_applications(inspector_a)) == [submitted]  # assigned
    assert list(selectors.visible_applications(inspector_city)) == []  # not assigned
    assert list(selectors.visible_applications(staff)) == [submitted]


# --- awards ---------------------------------------------------------------------------------------


def _through_review(application, staff, inspector_a):
    application = services.start_review(staff, application)
    for _ in range(4):
        services.submit_sheet(inspector_a, application, scores_for(application, "18"))
        application = services.close_stage(staff, application)
    return application


def test_the_quota_by_organization_kind_holds(tree, program, staff, inspector_a):
    program.quota = {"branch": 1}
    program.save()
    first = _through_review(services.nominate(staff, program, tree.branch_a), staff, inspector_a)
    second = _through_review(services.nominate(staff, program, tree.branch_a2), staff, inspector_a)
    services.decide(staff, first, award=True)
    with pytest.raises(ValidationError) as caught:
        services.decide(staff, second, award=True)
    assert "名额" in " ".join(caught.value.messages)
    counts = selectors.titles_by_kind(selectors.honour_roll(program))
    assert counts == [
        {"program__kind": "demonstration_site", "organization__kind": "branch", "n": 1}
    ]


def test_titles_due_are_listed_once_a_month_ahead(tree, program, staff, inspector_a):
    application = _through_review(
        services.nominate(staff, program, tree.branch_a), staff, inspector_a
    )
    services.decide(staff, application, award=True, on=D(2026, 1, 10))
    assert services.list_due_re_reviews(today=D(2028, 12, 1)) == []
    listed = services.list_due_re_reviews(today=D(2028, 12, 15))
    assert len(listed) == 1
    assert services.list_due_re_reviews(today=D(2028, 12, 16)) == []  # idempotent
    assert list(selectors.due_for_re_review(staff, today=D(2028, 12, 16)))[0].pk == listed[0]


# --- evidence from data ------------------------------------------------------------------------


def test_evidence_equals_the_compliance_engines_figure(
    tree, program, submitted, activity_types, django_assert_max_num_queries
):
    last_year = program.year - 1
    for month in (1, 2, 3):
        add_record(tree.branch_a, activity_types["theme_day"], D(last_year, month, 10))
    expected = compute_compliance(
        Organization.objects.filter(pk=tree.branch_a.pk), Period.year(last_year)
    )[tree.branch_a.pk].rate
    found = selectors.evidence([submitted])[submitted.pk]
    assert found[Evidence.ACTIVITY_SHARE] == expected and expected > 0
    assert found[Evidence.PAIRING_DOCKED] is False


def test_the_file_cap_counts_what_the_application_holds(tree, program, secretary_a, settings):
    settings.ACTIVITY_ATTACHMENTS_MAX_FILES = 1
    application = services.save_application(
        secretary_a,
        services.ApplicationInput(
            program=program,
            organization=tree.branch_a,
            attachments=[SimpleUploadedFile("一.png", PNG)],
        ),
    )
    with pytest.raises(ValidationError) as caught:
        services.save_application(
            secretary_a,
            services.ApplicationInput(
                program=program,
                organization=tree.branch_a,
                attachments=[SimpleUploadedFile("二.png", PNG)],
            ),
            application,
        )
    assert "attachments" in caught.value.message_dict
    assert application.attachments.count() == 1


def test_a_quota_that_is_not_a_whole_number_is_a_clear_error(tree, program, staff, inspector_a):
    program.quota = {"branch": "两个"}
    program.save()
    application = _through_review(
        services.nominate(staff, program, tree.branch_a), staff, inspector_a
    )
    with pytest.raises(ValidationError) as caught:
        services.decide(staff, application, award=True)
    assert "整数" in " ".join(caught.value.messages)
    application.refresh_from_db()
    assert application.status == S.UNDER_REVIEW and not Designation.objects.exists()
