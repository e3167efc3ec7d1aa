"""Writes of the evaluations app: each checks the capability on the object first, validates
everything, raises one ValidationError (Chinese messages) and writes all or nothing."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from accounts import access
from branches.models import Organization
from branches.services import attachment_cap_errors, original_name_of, validate_attachment

from . import rules
from .models import (
    Application,
    ApplicationAttachment,
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
    Stage,
)

if TYPE_CHECKING:
    from accounts.models import User

S = ApplicationStatus


def SUBMITTED_IS_FINAL() -> str:  # noqa: N802 (a message, said in two places)
    return gettext("A submitted application cannot be changed; withdraw it first if allowed.")


def _today() -> datetime.date:
    return timezone.localdate()


def criteria_of(application_or_program, organization_kind: str | None = None):
    program = getattr(application_or_program, "program", application_or_program)
    kind = organization_kind or application_or_program.organization.kind
    return Criterion.objects.filter(program=program, organization_kind=kind).order_by(
        "sort_order", "pk"
    )


def _lock(application: Application) -> Application:
    return (
        Application.objects.select_for_update()
        .select_related("program", "organization")
        .get(pk=application.pk)
    )


def _refuse_move(application: Application, new: str) -> None:
    if not rules.may_move(application.status, new):
        raise ValidationError(
            gettext("An application that is %(status)s cannot become %(new)s.")
            % {"status": application.get_status_display(), "new": S(new).label}
        )


# --- criteria (staff) -------------------------------------------------------------------------


def check_criteria_may_change(program: Program) -> None:
    """Raise when the program's criteria are frozen (the window has opened, or applications
    exist). The admin and the API call it before saving a criterion."""
    if rules.criteria_frozen(program, _today(), program.applications.exists()):
        raise ValidationError(
            gettext(
                "The criteria of %(program)s are frozen: its application window has opened or "
                "applications exist."
            )
            % {"program": program.name}
        )


# --- applications (secretaries, in scope; staff nominate) --------------------------------------


@dataclass
class AssessmentInput:
    criterion_id: int
    score: Decimal | None
    evidence: str = ""


@dataclass
class ApplicationInput:
    program: Program
    organization: Organization
    summary: str = ""
    assessments: list[AssessmentInput] = field(default_factory=list)
    attachments: list[UploadedFile] = field(default_factory=list)


def _assessment_errors(data: ApplicationInput, criteria: dict[int, Criterion]) -> dict:
    errors: dict[str, list[str]] = {}
    for a in data.assessments:
        criterion = criteria.get(a.criterion_id)
        if criterion is None:
            errors.setdefault("assessments", []).append(
                gettext("Criterion %(id)s is not one of this program's for this organization.")
                % {"id": a.criterion_id}
            )
            continue
        if a.score is not None and not (0 <= a.score <= criterion.max_score):
            errors.setdefault("assessments", []).append(
                gettext("%(criterion)s: the score must be between 0 and %(max)s.")
                % {"criterion": criterion.name, "max": criterion.max_score}
            )
    return errors


def save_application(
    user: User, data: ApplicationInput, application: Application | None = None
) -> Application:
    """Start or change a draft application with its self-assessment and attachments, while the
    program's window is open. One application per organization per program."""
    access.require(
        user,
        "evaluation.apply",
        data.organization,
        gettext("You cannot apply for this organization."),
    )
    errors: dict[str, list[str]] = {}
    program = data.program
    if not rules.window_open(program, _today()):
        errors.setdefault("program", []).append(
            gettext("Applications to %(program)s are taken from %(opens)s to %(closes)s.")
            % {"program": program.name, "opens": program.opens_on, "closes": program.closes_on}
        )
    if application is not None and application.status != S.DRAFT:
        errors.setdefault("status", []).append(SUBMITTED_IS_FINAL())
    if (
        application is None
        and Application.objects.filter(program=program, organization=data.organization).exists()
    ):
        errors.setdefault("organization", []).append(
            gettext("%(organization)s has already applied to %(program)s.")
            % {"organization": data.organization.name, "program": program.name}
        )
    criteria = {c.pk: c for c in criteria_of(program, data.organization.kind)}
    if not criteria:
        errors.setdefault("program", []).append(
            gettext("%(program)s takes no applications from a %(kind)s.")
            % {"program": program.name, "kind": data.organization.get_kind_display()}
        )
    for name, messages in _assessment_errors(data, criteria).items():
        errors.setdefault(name, []).extend(messages)
    content_types = []
    for upload in data.attachments:
        try:
            content_types.append(validate_attachment(upload))
        except ValidationError as exc:
            errors.setdefault("attachments", []).extend(exc.messages)
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            if application is None:
                application = Application.objects.create(
                    program=program,
                    organization=data.organization,
                    summary=data.summary,
                    created_by=user,
                )
            else:
                application = _lock(application)
                if application.status != S.DRAFT:
                    raise ValidationError(SUBMITTED_IS_FINAL())
                application.summary = data.summary
                application.save(update_fields=["summary"])
            for a in data.assessments:
                SelfAssessment.objects.update_or_create(
                    application=application,
                    criterion_id=a.criterion_id,
                    defaults={"score": a.score, "evidence": a.evidence.strip()},
                )
            # The cap counts what the application holds already and what comes now.
            stored = list(application.attachments.values_list("size", flat=True))
            cap = attachment_cap_errors(None, stored + [u.size for u in data.attachments])
            if cap:
                raise ValidationError({"attachments": cap})
            for upload, content_type in zip(data.attachments, content_types, strict=True):
                ApplicationAttachment.objects.create(
                    application=application,
                    file=upload,
                    original_name=original_name_of(upload),
                    content_type=content_type,
                    size=upload.size,
                )
    except IntegrityError as exc:
        raise ValidationError(
            {
                "organization": [
                    gettext("%(organization)s has already applied to %(program)s.")
                    % {"organization": data.organization.name, "program": program.name}
                ]
            }
        ) from exc
    return application


def submit_application(user: User, application: Application) -> Application:
    """Submit a draft, before the deadline, with a self-assessed score for every criterion."""
    access.require(
        user, "evaluation.apply", application, gettext("You cannot apply for this organization.")
    )
    with transaction.atomic():
        application = _lock(application)
        _refuse_move(application, S.SUBMITTED)
        if not rules.window_open(application.program, _today()):
            raise ValidationError(gettext("The application window is closed."))
        criteria = set(criteria_of(application).values_list("pk", flat=True))
        scored = set(
            application.self_assessments.filter(score__isnull=False).values_list(
                "criterion_id", flat=True
            )
        )
        if criteria - scored:
            raise ValidationError(
                gettext("Give a self-assessed score for every criterion before submitting.")
            )
        application.status = S.SUBMITTED
        application.submitted_at = timezone.now()
        application.save(update_fields=["status", "submitted_at"])
    return application


def withdraw_application(user: User, application: Application) -> Application:
    """A secretary withdraws their application before review starts."""
    access.require(
        user, "evaluation.apply", application, gettext("You cannot apply for this organization.")
    )
    with transaction.atomic():
        application = _lock(application)
        _refuse_move(application, S.WITHDRAWN)
        application.status = S.WITHDRAWN
        application.save(update_fields=["status"])
    return application


def nominate(
    user: User, program: Program, organization: Organization, summary: str = ""
) -> Application:
    """Staff nominate an organization: a submitted application without a self-assessment."""
    access.require(user, "evaluation.manage", None, gettext("Only committee staff nominate."))
    if not criteria_of(program, organization.kind).exists():
        raise ValidationError(
            gettext("%(program)s takes no applications from a %(kind)s.")
            % {"program": program.name, "kind": organization.get_kind_display()}
        )
    try:
        with transaction.atomic():
            return Application.objects.create(
                program=program,
                organization=organization,
                summary=summary,
                status=S.SUBMITTED,
                nominated=True,
                created_by=user,
                submitted_at=timezone.now(),
            )
    except IntegrityError as exc:
        raise ValidationError(
            gettext("%(organization)s has already applied to %(program)s.")
            % {"organization": organization.name, "program": program.name}
        ) from exc


# --- review -------------------------------------------------------------------------------------


def first_stage(program: Program) -> Stage | None:
    return program.stages.order_by("order").first()


def start_review(user: User, application: Application) -> Application:
    """Staff move a submitted application into review at the program's first stage."""
    access.require(user, "evaluation.manage", None, gettext("Only committee staff do this."))
    with transaction.atomic():
        application = _lock(application)
        _refuse_move(application, S.UNDER_REVIEW)
        stage = first_stage(application.program)
        if stage is None:
            raise ValidationError(gettext("The program has no review stages."))
        application.status = S.UNDER_REVIEW
        application.stage = stage
        application.save(update_fields=["status", "stage"])
    return application


@dataclass
class ScoreInput:
    criterion_id: int
    score: Decimal
    comment: str = ""


def submit_sheet(user: User, application: Application, scores: list[ScoreInput]) -> ReviewSheet:
    """A reviewer scores every criterion of an application at its current stage, once. A
    reviewer never scores their own organization."""
    access.require(
        user, "evaluation.score", application, gettext("You are not a reviewer of this program.")
    )
    errors: dict[str, list[str]] = {}
    if rules.conflict_of_interest(user, application.organization):
        raise ValidationError(
            gettext(
                "You belong to %(organization)s or to an organization above or under it: "
                "you cannot score it."
            )
            % {"organization": application.organization.name}
        )
    if application.status != S.UNDER_REVIEW or application.stage_id is None:
        raise ValidationError(
            gettext("Only an application under review can be scored; this one is %(status)s.")
            % {"status": application.get_status_display()}
        )
    criteria = {c.pk: c for c in criteria_of(application)}
    given = {s.criterion_id: s for s in scores}
    for pk in given.keys() - criteria.keys():
        errors.setdefault("scores", []).append(
            gettext("Criterion %(id)s is not one of this application's.") % {"id": pk}
        )
    for pk, criterion in criteria.items():
        s = given.get(pk)
        if s is None:
            errors.setdefault("scores", []).append(
                gettext("%(criterion)s: give a score.") % {"criterion": criterion.name}
            )
        elif not (0 <= s.score <= criterion.max_score):
            errors.setdefault("scores", []).append(
                gettext("%(criterion)s: the score must be between 0 and %(max)s.")
                % {"criterion": criterion.name, "max": criterion.max_score}
            )
    if errors:
        raise ValidationError(errors)
    total = rules.sheet_total({pk: s.score for pk, s in given.items()}, criteria.values())
    try:
        with transaction.atomic():
            locked = _lock(application)
            if locked.status != S.UNDER_REVIEW or locked.stage_id != application.stage_id:
                raise ValidationError(gettext("The application moved on; reload it."))
            sheet = ReviewSheet.objects.create(
                application=locked,
                stage_id=locked.stage_id,
                reviewer=user,
                total=total,
                submitted_at=timezone.now(),
            )
            Score.objects.bulk_create(
                Score(sheet=sheet, criterion_id=pk, score=s.score, comment=s.comment.strip()[:500])
                for pk, s in given.items()
            )
    except IntegrityError as exc:
        raise ValidationError(
            gettext("You have already scored this application at this stage.")
        ) from exc
    return sheet


def close_stage(user: User, application: Application) -> Application:
    """Staff close an application's current stage: passed, it goes to the next stage (or waits
    for the decision after the last); failed, it is not awarded."""
    access.require(user, "evaluation.manage", None, gettext("Only committee staff do this."))
    with transaction.atomic():
        application = _lock(application)
        if application.status != S.UNDER_REVIEW or application.stage is None:
            raise ValidationError(gettext("Only an application under review has a stage to close."))
        from .selectors import stage_results

        result = stage_results([application])[application.pk].get(application.stage_id)
        if result is None:
            raise ValidationError(gettext("No reviewer has scored this stage yet."))
        if result < application.stage.pass_threshold:
            application.status = S.NOT_AWARDED
            application.decided_at = timezone.now()
            application.save(update_fields=["status", "decided_at"])
            return application
        later = (
            application.program.stages.filter(order__gt=application.stage.order)
            .order_by("order")
            .first()
        )
        if later is not None:
            application.stage = later
            application.save(update_fields=["stage"])
    return application


def quota_for(program: Program, kind: str) -> int | None:
    """The program's quota of awards for an organization kind; None for no limit. A value
    that is not a whole number (typed into the admin's JSON) is a clear error, not a crash."""
    value = (program.quota or {}).get(kind) if isinstance(program.quota, dict) else None
    if value is None:
        return None
    try:
        quota = int(value)
    except (TypeError, ValueError):
        quota = -1
    if quota < 0 or str(quota) != str(value).strip():
        raise ValidationError(
            gettext("The quota of %(program)s for this kind is not a whole number: %(value)s.")
            % {"program": program.name, "value": value}
        )
    return quota


def decide(
    user: User, application: Application, award: bool, on: datetime.date | None = None
) -> Application:
    """Award (a Designation is created) or not, after the last stage was passed, within the
    program's quota for the organization's kind."""
    access.require(user, "evaluation.manage", None, gettext("Only committee staff do this."))
    on = on or _today()
    with transaction.atomic():
        application = _lock(application)
        new = S.AWARDED if award else S.NOT_AWARDED
        _refuse_move(application, new)
        if award:
            program = application.program
            last = program.stages.order_by("-order").first()
            if last is not None and application.stage_id != last.pk:
                raise ValidationError(gettext("The application has not reached the last stage."))
            quota = quota_for(program, application.organization.kind)
            if quota is not None:
                taken = Designation.objects.filter(
                    program=program, organization__kind=application.organization.kind
                ).count()
                if taken >= int(quota):
                    raise ValidationError(
                        gettext("The quota of %(quota)s for %(kind)s is used up.")
                        % {"quota": quota, "kind": application.organization.get_kind_display()}
                    )
            Designation.objects.create(
                program=program,
                organization=application.organization,
                application=application,
                title=program.title,
                awarded_on=on,
                valid_until=rules.years_after(on, program.valid_years),
            )
        application.status = new
        application.decided_at = timezone.now()
        application.save(update_fields=["status", "decided_at"])
    return application


def re_review(
    user: User, designation: Designation, outcome: str, reason: str, on: datetime.date | None = None
) -> ReReview:
    """Keep a title for another term, or revoke it (优进劣出), with a reason; the revoked title
    stays in the history."""
    access.require(user, "evaluation.manage", None, gettext("Only committee staff do this."))
    on = on or _today()
    if not reason.strip():
        raise ValidationError({"reason": gettext("Give the reason.")})
    if outcome not in ReReviewOutcome.values:
        raise ValidationError({"outcome": gettext("Keep or revoke.")})
    with transaction.atomic():
        designation = (
            Designation.objects.select_for_update().select_related("program").get(pk=designation.pk)
        )
        if designation.status == DesignationStatus.REVOKED:
            raise ValidationError(gettext("This title was revoked already."))
        review = ReReview.objects.create(
            designation=designation,
            due_on=designation.valid_until,
            outcome=outcome,
            reason=reason.strip(),
            decided_on=on,
            decided_by=user,
        )
        if outcome == ReReviewOutcome.REVOKED:
            designation.status = DesignationStatus.REVOKED
            designation.revoked_on = on
            designation.revoke_reason = reason.strip()
        else:
            designation.valid_until = rules.years_after(
                max(designation.valid_until, on), designation.program.valid_years
            )
            designation.re_review_listed_on = None
        designation.save(
            update_fields=[
                "status",
                "revoked_on",
                "revoke_reason",
                "valid_until",
                "re_review_listed_on",
            ]
        )
    return review


RE_REVIEW_NOTICE_DAYS = 31


def list_due_re_reviews(today: datetime.date | None = None) -> list[int]:
    """Mark the current titles whose validity ends within a month (or has ended) as listed for
    re-review, once: the beat task's work, idempotent. Returns the ids newly listed."""
    today = today or _today()
    due = Designation.objects.filter(
        status=DesignationStatus.CURRENT,
        re_review_listed_on__isnull=True,
        valid_until__lte=today + datetime.timedelta(days=RE_REVIEW_NOTICE_DAYS),
    )
    ids = list(due.values_list("pk", flat=True))
    Designation.objects.filter(pk__in=ids).update(re_review_listed_on=today)
    return ids
