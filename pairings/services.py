"""Writes of the pairings app. Each checks the capability on the object first (`accounts.access`),
validates everything before writing, raises one ValidationError with every field's errors
(in Chinese), and writes all or nothing."""

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
from branches.models import ActivityType, Member, Organization
from branches.selectors import expected_attendees
from branches.services import (
    ActivityInput,
    attachment_cap_errors,
    file_activity_record,
    original_name_of,
    validate_attachment,
)

from .models import (
    HelpKind,
    HelpPhoto,
    HelpRecord,
    Measure,
    MemberPair,
    Need,
    Pairing,
    PairingStatus,
    PartnerOrganization,
    Project,
    ProjectStatus,
    Scheme,
)
from .rules import rule_breaches, shape_errors

if TYPE_CHECKING:
    from accounts.models import User

# The activity type a pairing visit is counted as, when the secretary asks.
THEME_DAY = "theme_day"


def _today() -> datetime.date:
    return timezone.localdate()


def _not_in_future(errors: dict, name: str, value: datetime.date | None) -> None:
    if value is not None and value > _today():
        errors.setdefault(name, gettext("The date cannot be in the future."))


# --- pairings (staff) ----------------------------------------------------------------------------


@dataclass
class PairingInput:
    scheme: Scheme
    organization: Organization
    partner: PartnerOrganization
    started_on: datetime.date
    status: str = PairingStatus.PLANNED
    docked_on: datetime.date | None = None
    note: str = ""
    override_reason: str = ""


def pairing_field_errors(data: PairingInput) -> dict[str, str]:
    """What no override changes: the scheme takes this organization and partner, the status,
    the docking date. The spreadsheet import asks it per row (it counts the limits itself)."""
    errors = shape_errors(data.scheme, data.organization, data.partner)
    if data.status not in PairingStatus.values:
        errors["status"] = gettext("Unknown status.")
    if data.status == PairingStatus.DOCKED and data.docked_on is None:
        errors["docked_on"] = gettext("A docked pairing needs the day docking was completed.")
    if data.docked_on is not None and data.docked_on < data.started_on:
        errors["docked_on"] = gettext("Docking cannot come before the start.")
    _not_in_future(errors, "docked_on", data.docked_on)
    return errors


def pairing_errors(data: PairingInput, pairing: Pairing | None = None) -> dict[str, str]:
    """Every error of a pairing about to be made or changed, override applied: field errors
    always, the scheme's limits unless a reason is given. The admin asks it too."""
    errors = pairing_field_errors(data)
    if data.status != PairingStatus.ENDED and not errors:
        current = Pairing.objects.current().filter(scheme=data.scheme)
        if pairing is not None:
            current = current.exclude(pk=pairing.pk)
        breaches = rule_breaches(data.scheme, data.organization, data.partner, current)
        if breaches and not data.override_reason.strip():
            errors.update(breaches)
            errors.setdefault(
                "override_reason",
                gettext("To make it anyway, give the reason for breaking the scheme's rule."),
            )
    return errors


def create_pairing(user: User, data: PairingInput) -> Pairing:
    access.require(user, "pairing.manage", None, gettext("Only committee staff make pairings."))
    data.override_reason = data.override_reason.strip()
    with transaction.atomic():
        # One pairing at a time per partner: two clerks cannot both take a "1+1" village.
        PartnerOrganization.objects.select_for_update().filter(pk=data.partner.pk).first()
        errors = pairing_errors(data)
        if errors:
            raise ValidationError(errors)
        if data.override_reason and not rule_breaches(
            data.scheme,
            data.organization,
            data.partner,
            Pairing.objects.current().filter(scheme=data.scheme),
        ):
            data.override_reason = ""  # nothing was overridden: no flag
        try:
            return Pairing.objects.create(
                scheme=data.scheme,
                organization=data.organization,
                partner=data.partner,
                started_on=data.started_on,
                status=data.status,
                docked_on=data.docked_on,
                note=data.note,
                override_reason=data.override_reason,
                created_by=user,
            )
        except IntegrityError as exc:
            raise ValidationError(
                {
                    "partner": gettext("%(organization)s is already paired with %(partner)s.")
                    % {"organization": data.organization.name, "partner": data.partner}
                }
            ) from exc


def set_pairing_status(
    user: User, pairing: Pairing, status: str, on: datetime.date | None = None
) -> Pairing:
    """Mark a pairing docked (对接完成) or ended, on a day (today by default)."""
    access.require(user, "pairing.manage", pairing, gettext("Only committee staff do this."))
    on = on or _today()
    errors: dict[str, str] = {}
    _not_in_future(errors, "date", on)
    if on < pairing.started_on:
        errors["date"] = gettext("The date cannot come before the pairing started.")
    if status not in (PairingStatus.DOCKED, PairingStatus.ENDED):
        errors["status"] = gettext("Unknown status.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        pairing = Pairing.objects.select_for_update().get(pk=pairing.pk)
        pairing.status = status
        if status == PairingStatus.DOCKED:
            pairing.docked_on = on
        else:
            pairing.ended_on = on
        pairing.save(update_fields=["status", "docked_on", "ended_on"])
    return pairing


# --- help records (secretaries, on their own pairings) ---------------------------------------


@dataclass
class HelpInput:
    pairing: Pairing
    kind: str
    date: datetime.date | None
    description: str
    participant_ids: set[int] = field(default_factory=set)
    others: str = ""
    amount: Decimal | None = None
    item: str = ""
    quantity: Decimal | None = None
    unit_of_measure: str = ""
    value: Decimal | None = None
    photos: list[UploadedFile] = field(default_factory=list)
    # A visit that is also the branch's 主题党日: one filing, two records linked.
    as_theme_day: bool = False
    topic: str = ""


def _help_errors(data: HelpInput) -> tuple[dict[str, list[str]], list[Member], list[str]]:
    errors: dict[str, list[str]] = {}

    def add(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    pairing = data.pairing
    if data.kind not in HelpKind.values:
        add("kind", gettext("Choose visit, funds or goods."))
    if data.date is None:
        add("date", gettext("Give the date."))
    else:
        if data.date > _today():
            add("date", gettext("The date cannot be in the future."))
        if data.date < pairing.started_on:
            add("date", gettext("The date cannot come before the pairing started."))
        if pairing.ended_on and data.date > pairing.ended_on:
            add("date", gettext("The pairing had ended by then."))
    if not data.description.strip():
        add("description", gettext("Say what was done."))
    if data.kind == HelpKind.FUNDS:
        if data.amount is None:
            add("amount", gettext("Give the amount in yuan."))
        elif data.amount <= 0:
            add("amount", gettext("The amount must be more than zero."))
    if data.kind == HelpKind.GOODS:
        if not data.item.strip():
            add("item", gettext("Name the goods."))
        if data.quantity is None or data.quantity <= 0:
            add("quantity", gettext("The quantity must be more than zero."))
        if not data.unit_of_measure.strip():
            add("unit_of_measure", gettext("Give the unit of measure (e.g. 床, 袋, 件)."))
        if data.value is not None and data.value < 0:
            add("value", gettext("The value cannot be negative."))
    if data.kind != HelpKind.VISIT and data.as_theme_day:
        add("as_theme_day", gettext("Only a visit can count as a theme party day."))
    participants: list[Member] = []
    if data.participant_ids:
        participants = list(
            Member.objects.under(pairing.organization).filter(pk__in=data.participant_ids)
        )
        strangers = data.participant_ids - {m.pk for m in participants}
        if strangers:
            add(
                "participants",
                gettext("Not members of %(organization)s: %(ids)s.")
                % {
                    "organization": pairing.organization.name,
                    "ids": ", ".join(str(pk) for pk in sorted(strangers)),
                },
            )
    if data.as_theme_day and not data.participant_ids:
        add("participants", gettext("Say who went: they are the theme party day's attendance."))
    content_types = []
    for upload in data.photos:
        try:
            content_types.append(validate_attachment(upload))
        except ValidationError as exc:
            errors.setdefault("photos", []).extend(exc.messages)
    for message in attachment_cap_errors(None, [u.size for u in data.photos]):
        add("photos", message)
    return errors, participants, content_types


def file_help_record(user: User, data: HelpInput) -> HelpRecord:
    """File a visit, funds or goods on a pairing: all of it or nothing. A visit asked to count
    as the branch's 主题党日 files that activity record too (its own checks apply: the
    branch's members, one per day), and the two are linked."""
    access.require(
        user,
        "pairing.report",
        data.pairing,
        gettext("You cannot report on this pairing."),
    )
    errors, participants, content_types = _help_errors(data)
    if errors:
        raise ValidationError(errors)
    organization = data.pairing.organization
    with transaction.atomic():
        activity_record = None
        if data.as_theme_day:
            theme_day = ActivityType.objects.filter(code=THEME_DAY).first()
            present = {m.pk for m in participants}
            absent = (
                set(expected_attendees(organization, theme_day).values_list("pk", flat=True))
                - present
                if theme_day
                else set()
            )
            try:
                activity_record = file_activity_record(
                    user,
                    ActivityInput(
                        organization=organization,
                        activity_type=theme_day,
                        date=data.date,
                        topic=(data.topic or "").strip()
                        or gettext("Pairing visit to %(partner)s")
                        % {"partner": data.pairing.partner},
                        place=str(data.pairing.partner)[:100],
                        content=data.description,
                        absent_ids=absent,
                    ),
                )
            except ValidationError as exc:
                raise ValidationError({"as_theme_day": exc.messages}) from exc
        record = HelpRecord.objects.create(
            pairing=data.pairing,
            kind=data.kind,
            date=data.date,
            description=data.description.strip(),
            others=data.others.strip(),
            amount=data.amount if data.kind == HelpKind.FUNDS else None,
            item=data.item.strip() if data.kind == HelpKind.GOODS else "",
            quantity=data.quantity if data.kind == HelpKind.GOODS else None,
            unit_of_measure=data.unit_of_measure.strip() if data.kind == HelpKind.GOODS else "",
            value=data.value if data.kind == HelpKind.GOODS else None,
            activity_record=activity_record,
            filed_by=user,
        )
        record.participants.set(participants)
        for upload, content_type in zip(data.photos, content_types, strict=True):
            HelpPhoto.objects.create(
                help_record=record,
                file=upload,
                original_name=original_name_of(upload),
                content_type=content_type,
                size=upload.size,
            )
    return record


def delete_help_record(user: User, record: HelpRecord) -> None:
    """Delete a help record; the theme party day it was counted as goes with it."""
    access.require(user, "pairing.report", record, gettext("You cannot report on this pairing."))
    with transaction.atomic():
        if record.activity_record_id:
            from branches.services import delete_activity_record

            delete_activity_record(user, record.activity_record)
        record.delete()


# --- needs, measures, projects, member pairs ---------------------------------------------------


def add_need(user: User, pairing: Pairing, description: str, found_on: datetime.date) -> Need:
    access.require(user, "pairing.report", pairing, gettext("You cannot report on this pairing."))
    errors: dict[str, str] = {}
    if not description.strip():
        errors["description"] = gettext("Describe the need.")
    _not_in_future(errors, "found_on", found_on)
    if errors:
        raise ValidationError(errors)
    return Need.objects.create(pairing=pairing, description=description.strip(), found_on=found_on)


def add_measure(
    user: User, need: Need, description: str, due_on: datetime.date | None = None
) -> Measure:
    access.require(user, "pairing.report", need, gettext("You cannot report on this pairing."))
    if not description.strip():
        raise ValidationError({"description": gettext("Describe the measure.")})
    return Measure.objects.create(need=need, description=description.strip(), due_on=due_on)


def close_need(user: User, need: Need, met_on: datetime.date | None = None) -> Need:
    """The need is met (缺什么补什么: closed)."""
    access.require(user, "pairing.report", need, gettext("You cannot report on this pairing."))
    met_on = met_on or _today()
    errors: dict[str, str] = {}
    _not_in_future(errors, "met_on", met_on)
    if met_on < need.found_on:
        errors["met_on"] = gettext("A need is met only after it was found.")
    if errors:
        raise ValidationError(errors)
    need.met_on = met_on
    need.save(update_fields=["met_on"])
    return need


@dataclass
class ProjectInput:
    pairing: Pairing
    name: str
    budget: Decimal
    started_on: datetime.date
    due_on: datetime.date
    status: str = ProjectStatus.PLANNED


def add_project(user: User, data: ProjectInput) -> Project:
    access.require(
        user, "pairing.report", data.pairing, gettext("You cannot report on this pairing.")
    )
    errors: dict[str, str] = {}
    if not data.name.strip():
        errors["name"] = gettext("Name the project.")
    if data.budget is None or data.budget < 0:
        errors["budget"] = gettext("The budget cannot be negative.")
    if data.due_on < data.started_on:
        errors["due_on"] = gettext("The due date cannot come before the start.")
    if data.status not in ProjectStatus.values:
        errors["status"] = gettext("Unknown status.")
    if errors:
        raise ValidationError(errors)
    return Project.objects.create(
        pairing=data.pairing,
        name=data.name.strip(),
        budget=data.budget,
        started_on=data.started_on,
        due_on=data.due_on,
        status=data.status,
        done_on=_today() if data.status == ProjectStatus.DONE else None,
    )


def add_member_pair(
    user: User,
    pairing: Pairing,
    member: Member,
    counterpart_kind: str,
    counterpart_name: str,
    started_on: datetime.date,
    note: str = "",
) -> MemberPair:
    access.require(user, "pairing.report", pairing, gettext("You cannot report on this pairing."))
    errors: dict[str, str] = {}
    if not pairing.scheme.member_pairs:
        errors["member"] = gettext("Members do not pair under %(scheme)s.") % {
            "scheme": pairing.scheme.name
        }
    elif not Member.objects.under(pairing.organization).filter(pk=member.pk).exists():
        errors["member"] = gettext("%(member)s is not a member of %(organization)s.") % {
            "member": member.name,
            "organization": pairing.organization.name,
        }
    if not counterpart_name.strip():
        errors["counterpart_name"] = gettext("Give the name of the one paired with.")
    _not_in_future(errors, "started_on", started_on)
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            return MemberPair.objects.create(
                pairing=pairing,
                member=member,
                counterpart_kind=counterpart_kind,
                counterpart_name=counterpart_name.strip(),
                started_on=started_on,
                note=note.strip(),
            )
    except IntegrityError as exc:
        raise ValidationError(
            {"counterpart_name": gettext("This pair is already recorded.")}
        ) from exc
