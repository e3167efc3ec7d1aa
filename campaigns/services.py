"""Writes of the campaigns app. Each checks the capability on the object first, validates
everything, raises one ValidationError with Chinese messages, and writes all or nothing."""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from accounts import access
from accounts.models import Role, User
from branches.models import ActivityRecord, Organization
from branches.services import attachment_cap_errors, original_name_of, validate_attachment

from . import rules
from .models import (
    AnnualReport,
    Assessment,
    Campaign,
    CampaignActivity,
    CampaignKind,
    InspectionGroup,
    Participation,
    ParticipationGoods,
    Problem,
    ProblemEvent,
    ProblemState,
    Rectification,
    RectificationPhoto,
    Severity,
)

log = logging.getLogger(__name__)

P = ProblemState
THEME_DAY = "theme_day"
OVERDUE_NOTICE = "problem_overdue"  # the notice's kind: reminders.models.Kind.PROBLEM_OVERDUE


def _today() -> datetime.date:
    return timezone.localdate()  # Asia/Shanghai (TIME_ZONE)


# --- problems -------------------------------------------------------------------------------------


@dataclass
class ProblemInput:
    organization: Organization
    category: str
    description: str
    found_on: datetime.date | None
    deadline: datetime.date | None
    severity: str = Severity.NORMAL
    evidence: str = ""
    group: InspectionGroup | None = None
    annual_report: AnnualReport | None = None


def record_problem(user: User, data: ProblemInput) -> Problem:
    """An inspection group (or staff, or the committee's assessment of an annual report) lists
    a problem for the responsible organization."""
    access.require(
        user,
        "inspection.record_problem",
        data.organization,
        gettext("You cannot record problems for this organization."),
    )
    errors: dict[str, list[str]] = {}

    def add(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    if access.role_of(user) != Role.STAFF and (
        data.group is None or not data.group.members.filter(pk=user.pk).exists()
    ):
        add("group", gettext("Record the problem as a member of its inspection group."))
    if not data.description.strip():
        add("description", gettext("Describe the problem."))
    if not data.category.strip():
        add("category", gettext("Give the problem's category."))
    if data.severity not in Severity.values:
        add("severity", gettext("Choose a severity."))
    if data.found_on is None:
        add("found_on", gettext("Give the date."))
    elif data.found_on > _today():
        add("found_on", gettext("The date cannot be in the future."))
    if data.deadline is None:
        add("deadline", gettext("Give the deadline."))
    elif data.found_on is not None and data.deadline < data.found_on:
        add("deadline", gettext("The deadline cannot come before the problem was found."))
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        problem = Problem.objects.create(
            organization=data.organization,
            group=data.group,
            annual_report=data.annual_report,
            category=data.category.strip(),
            description=data.description.strip(),
            severity=data.severity,
            found_on=data.found_on,
            deadline=data.deadline,
            evidence=data.evidence.strip(),
            created_by=user,
        )
        ProblemEvent.objects.create(problem=problem, from_state="", to_state=P.OPEN, by=user)
    return problem


def _move(user: User, problem: Problem, new: str, note: str = "") -> Problem:
    """Move a locked problem to `new`, if the state machine and the user's side allow it."""
    capability = rules.MOVED_BY[new]
    message = (
        gettext("Only the responsible organization answers this problem.")
        if capability == "problem.answer"
        else gettext("Only the inspection group that found it accepts or sends it back.")
    )
    access.require(user, capability, problem, message)
    if not rules.may_move(problem.state, new):
        raise ValidationError(
            gettext("A problem that is %(state)s cannot become %(new)s.")
            % {"state": problem.get_state_display(), "new": P(new).label}
        )
    ProblemEvent.objects.create(
        problem=problem, from_state=problem.state, to_state=new, by=user, note=note[:500]
    )
    problem.state = new
    problem.save(update_fields=["state"])
    return problem


def _locked(problem: Problem) -> Problem:
    # Only the problem's row: FOR UPDATE cannot lock the outer join to a problem without a
    # group (PostgreSQL refuses it).
    return (
        Problem.objects.select_for_update(of=("self",))
        .select_related("organization", "group")
        .get(pk=problem.pk)
    )


def start_rectifying(user: User, problem: Problem) -> Problem:
    with transaction.atomic():
        return _move(user, _locked(problem), P.RECTIFYING)


def answer_problem(
    user: User,
    problem: Problem,
    measures: str,
    evidence: str = "",
    photos: list[UploadedFile] | None = None,
) -> Rectification:
    """The responsible organization answers with the measures taken and evidence (photos
    included): the problem goes to the group for acceptance."""
    access.require(
        user,
        "problem.answer",
        problem,
        gettext("Only the responsible organization answers this problem."),
    )
    photos = photos or []
    errors: dict[str, list[str]] = {}
    if not measures.strip():
        errors.setdefault("measures", []).append(gettext("Say what was done to rectify it."))
    content_types = []
    for upload in photos:
        try:
            content_types.append(validate_attachment(upload))
        except ValidationError as exc:
            errors.setdefault("photos", []).extend(exc.messages)
    errors_cap = attachment_cap_errors(None, [u.size for u in photos])
    if errors_cap:
        errors.setdefault("photos", []).extend(errors_cap)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        locked = _locked(problem)
        _move(user, locked, P.SUBMITTED)
        answer = Rectification.objects.create(
            problem=locked,
            measures=measures.strip(),
            evidence=evidence.strip(),
            submitted_by=user,
        )
        for upload, content_type in zip(photos, content_types, strict=True):
            RectificationPhoto.objects.create(
                answer=answer,
                file=upload,
                original_name=original_name_of(upload),
                content_type=content_type,
                size=upload.size,
            )
    problem.state = locked.state
    return answer


def accept_problem(user: User, problem: Problem, note: str = "") -> Problem:
    with transaction.atomic():
        return _move(user, _locked(problem), P.ACCEPTED, note)


def send_back(user: User, problem: Problem, reason: str) -> Problem:
    if not reason.strip():
        raise ValidationError({"reason": gettext("Say why it is sent back.")})
    with transaction.atomic():
        return _move(user, _locked(problem), P.SENT_BACK, reason.strip())


def mark_overdue(today: datetime.date | None = None) -> int:
    """The daily task: problems past their deadline (Shanghai dates) and not accepted are
    marked overdue once, then the reminders app tells the responsible organization's
    secretaries (`reminders.services.remind_overdue_problems`: a portal notice each, an e-mail
    and the group robots through its deliveries). Idempotent: a second run marks and tells
    nobody. Returns how many problems were newly marked."""
    from reminders.services import remind_overdue_problems

    today = today or _today()
    with transaction.atomic():
        marked = (
            Problem.objects.unresolved()
            .filter(deadline__lt=today, overdue_since__isnull=True)
            .update(overdue_since=today)
        )
        remind_overdue_problems(today)
    return marked


# --- annual reports -------------------------------------------------------------------------------


def assess_annual_report(user: User, report: AnnualReport, assessment: str) -> AnnualReport:
    access.require(user, "campaign.manage", None, gettext("Only committee staff do this."))
    if assessment not in Assessment.values:
        raise ValidationError({"assessment": gettext("Choose good, fairly good, average or poor.")})
    report.assessment = assessment
    report.assessed_on = _today()
    report.save(update_fields=["assessment", "assessed_on"])
    return report


# --- participation --------------------------------------------------------------------------------


@dataclass
class GoodsInput:
    item: str
    quantity: Decimal
    unit_of_measure: str
    value: Decimal = Decimal("0")


@dataclass
class ParticipationInput:
    campaign: Campaign
    organization: Organization
    members: int = 0
    money: Decimal = Decimal("0")
    note: str = ""
    goods: list[GoodsInput] = field(default_factory=list)


def file_participation(user: User, data: ParticipationInput) -> Participation:
    """An organization's part in a campaign (filed again, it replaces the earlier filing)."""
    access.require(
        user,
        "campaign.participate",
        data.organization,
        gettext("You cannot file for this organization."),
    )
    errors: dict[str, list[str]] = {}
    if data.members is None or data.members < 0:
        errors.setdefault("members", []).append(gettext("The number cannot be negative."))
    if data.money is None or data.money < 0:
        errors.setdefault("money", []).append(gettext("The amount cannot be negative."))
    for goods in data.goods:
        if not goods.item.strip() or not goods.unit_of_measure.strip():
            errors.setdefault("goods", []).append(
                gettext("Each item needs its name and unit of measure.")
            )
        if goods.quantity is None or goods.quantity <= 0:
            errors.setdefault("goods", []).append(gettext("The quantity must be more than zero."))
        if goods.value is None or goods.value < 0:
            errors.setdefault("goods", []).append(gettext("The value cannot be negative."))
    today = _today()
    if today < data.campaign.starts_on:
        errors.setdefault("campaign", []).append(gettext("The campaign has not started."))
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        participation, _created = Participation.objects.update_or_create(
            campaign=data.campaign,
            organization=data.organization,
            defaults={
                "members": data.members,
                "money": data.money,
                "note": data.note.strip(),
                "filed_by": user,
            },
        )
        participation.goods.all().delete()
        ParticipationGoods.objects.bulk_create(
            ParticipationGoods(
                participation=participation,
                item=g.item.strip(),
                quantity=g.quantity,
                unit_of_measure=g.unit_of_measure.strip(),
                value=g.value,
            )
            for g in data.goods
        )
    return participation


def tag_activity(user: User, campaign: Campaign, record: ActivityRecord) -> CampaignActivity:
    """Count a branch's 主题党日 record as its part in a theme-day campaign: no second filing."""
    access.require(
        user,
        "campaign.participate",
        record.organization,
        gettext("You cannot file for this organization."),
    )
    if campaign.kind != CampaignKind.THEME_DAY:
        raise ValidationError(gettext("Only a theme-day campaign takes activity records."))
    if record.activity_type is None or record.activity_type.code != THEME_DAY:
        raise ValidationError(gettext("Only a theme party day counts for this campaign."))
    month = campaign.theme_month
    if month is not None and (record.date.year, record.date.month) != (month.year, month.month):
        raise ValidationError(
            gettext("The campaign's theme day is in %(month)s.")
            % {"month": f"{month.year}-{month.month:02d}"}
        )
    if not campaign.starts_on <= record.date <= campaign.ends_on:
        raise ValidationError(gettext("The record is outside the campaign's period."))
    try:
        with transaction.atomic():
            return CampaignActivity.objects.create(campaign=campaign, record=record)
    except IntegrityError as exc:
        raise ValidationError(gettext("This record already counts for the campaign.")) from exc
