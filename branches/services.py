"""Writes for the organ tree: the roster (党员名册) import/export, and filing activity records."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import IO, TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext
from import_export.formats import base_formats

from .models import (
    COMMITTEE_DUTIES,
    ActivityRecord,
    ActivityType,
    Attachment,
    Attendance,
    AttendanceStatus,
    Member,
    Organization,
    OrganizationKind,
)
from .resources import HEADER_ROWS, MemberResource, RosterHeaderError, RosterImportResult
from .selectors import visible_organizations

if TYPE_CHECKING:
    from accounts.models import User

ROSTER_FORMATS: dict[str, type[base_formats.Format]] = {
    "xlsx": base_formats.XLSX,
    "csv": base_formats.CSV,
}


@dataclass(frozen=True)
class RowError:
    """One problem: spreadsheet row (header = 1; 0 = the file as a whole) and column header."""

    row: int
    column: str
    message: str


@dataclass
class RosterImportReport:
    """What an import did. When `ok` is false nothing was saved and the counts are zero."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _read_bytes(file_or_bytes: bytes | IO[bytes] | str | PathLike) -> bytes:
    if isinstance(file_or_bytes, bytes | bytearray):
        return bytes(file_or_bytes)
    if isinstance(file_or_bytes, str | PathLike):
        return Path(file_or_bytes).read_bytes()
    if hasattr(file_or_bytes, "seek"):
        file_or_bytes.seek(0)
    return file_or_bytes.read()


def _errors_of(result: RosterImportResult) -> list[RowError]:
    errors: list[RowError] = []
    for base in result.base_errors:
        if isinstance(base.error, RosterHeaderError):
            errors += [RowError(HEADER_ROWS, col, msg) for col, msg in base.error.problems]
        else:
            errors.append(RowError(0, "", str(base.error)))
    for invalid in result.invalid_rows:
        for column, messages in invalid.error_dict.items():
            column = "" if column == NON_FIELD_ERRORS else column
            errors += [RowError(invalid.number, column, str(message)) for message in messages]
    for error_row in result.error_rows:
        errors += [RowError(error_row.number, "", str(e.error)) for e in error_row.errors]
    return sorted(errors, key=lambda e: e.row)


def import_roster(
    file_or_bytes: bytes | IO[bytes] | str | PathLike,
    *,
    file_format: str = "xlsx",
    user: User | None = None,
) -> RosterImportReport:
    """Import a roster file whole or not at all, and report every bad row.

    `user` scopes the import to the organizations and members that user may see (None: a
    trusted caller, no scope) and is recorded as the author in the members' history.
    Inspectors, who only read, may not import.
    """
    if user is not None and (not user.is_authenticated or user.is_read_only):
        raise PermissionDenied(gettext("You may not import the roster."))
    try:
        input_format = ROSTER_FORMATS[file_format]()
    except KeyError:
        raise ValueError(f"Unsupported roster format: {file_format!r}") from None
    data: bytes | str = _read_bytes(file_or_bytes)
    if not input_format.is_binary():
        data = data.decode("utf-8-sig")
    try:
        dataset = input_format.create_dataset(data)
    except Exception as e:  # a corrupt or foreign file: one error, not a crash
        message = gettext("The file could not be read as %(format)s (%(error)s).") % {
            "format": file_format,
            "error": type(e).__name__,
        }
        return RosterImportReport(errors=[RowError(0, "", message)])

    with transaction.atomic():
        result = MemberResource().import_data(dataset, dry_run=False, user=user)
        report = RosterImportReport(errors=_errors_of(result))
        if not report.ok:
            # MemberResource already rolled its own savepoint back; be explicit anyway.
            transaction.set_rollback(True)
            return report
    report.created = result.totals["new"]
    report.updated = result.totals["update"]
    report.unchanged = sum(1 for r in result.rows if r.is_skip() and not r.blank)
    return report


def export_roster(queryset: QuerySet[Member] | None = None) -> bytes:
    """The roster as .xlsx, in the same columns the import reads."""
    queryset = Member.objects.all() if queryset is None else queryset
    dataset = MemberResource().export(queryset=queryset.select_related("branch", "group"))
    return base_formats.XLSX().export_data(dataset)


# --- Organizational life: filing activity records ------------------------------------------

IMAGE_SIGNATURES = {
    b"\xff\xd8\xff": "image/jpeg",
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"%PDF-": "application/pdf",
}


def sniff_content_type(head: bytes) -> str | None:
    """The real type of an upload from its first bytes (the browser's word is not trusted)."""
    for signature, content_type in IMAGE_SIGNATURES.items():
        if head.startswith(signature):
            return content_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:8] == b"ftyp" and head[8:12] in {b"heic", b"heix", b"mif1", b"msf1", b"hevc"}:
        return "image/heic"  # iPhone camera photos
    return None


def validate_attachment(upload: UploadedFile) -> str:
    """Return the sniffed content type, or raise a ValidationError naming the file."""
    max_bytes = settings.ACTIVITY_ATTACHMENT_MAX_MB * 1024 * 1024
    if upload.size > max_bytes:
        raise ValidationError(
            gettext("%(name)s is larger than %(max)d MB.")
            % {"name": upload.name, "max": settings.ACTIVITY_ATTACHMENT_MAX_MB}
        )
    upload.seek(0)
    content_type = sniff_content_type(upload.read(16))
    upload.seek(0)
    if content_type is None:
        raise ValidationError(
            gettext("%(name)s is not a photo (JPEG, PNG, WebP, HEIC) or a PDF.")
            % {"name": upload.name}
        )
    return content_type


def can_write_for(user: User, organization: Organization) -> bool:
    """Staff write everywhere; a secretary within their own scope; inspectors never."""
    from accounts.models import Role

    if not (user and user.is_authenticated and user.is_active):
        return False
    if user.is_committee_staff:
        return True
    if user.role != Role.SECRETARY:
        return False
    return visible_organizations(user).filter(pk=organization.pk).exists()


def expected_attendees(organization: Organization, activity_type: ActivityType) -> QuerySet[Member]:
    """Who is expected at an activity: the group's members for a group, the committee for a
    committee meeting, otherwise the branch's members."""
    if organization.kind == OrganizationKind.GROUP:
        members = Member.objects.filter(group=organization)
    else:
        members = Member.objects.filter(branch=organization)
    if activity_type.committee_only:
        members = members.filter(duty__in=COMMITTEE_DUTIES)
    return members


@dataclass
class ActivityInput:
    """What a secretary types: everyone expected is present unless marked excused or absent."""

    organization: Organization
    activity_type: ActivityType | None
    date: datetime.date | None
    topic: str
    place: str = ""
    content: str = ""
    excused_ids: set[int] = field(default_factory=set)
    absent_ids: set[int] = field(default_factory=set)
    attachments: list[UploadedFile] = field(default_factory=list)


def _validate_activity(data: ActivityInput, record: ActivityRecord | None) -> tuple[list, list]:
    """Check everything before anything is written; raise one ValidationError with all of it."""
    errors: dict[str, list[str]] = defaultdict(list)
    org, activity_type = data.organization, data.activity_type
    if activity_type is None:
        errors["activity_type"].append(gettext("Choose the type of activity."))
    elif org.kind not in activity_type.organization_kinds:
        errors["activity_type"].append(
            gettext("A %(kind)s does not hold a %(type)s.")
            % {"kind": org.get_kind_display(), "type": activity_type.name}
        )
    if data.date is None:
        errors["date"].append(gettext("Enter the date."))
    elif data.date > timezone.localdate():
        errors["date"].append(gettext("The date cannot be in the future."))
    if not (data.topic or "").strip():
        errors["topic"].append(gettext("Enter the topic."))
    if activity_type is not None and data.date is not None:
        duplicate = ActivityRecord.objects.filter(
            organization=org, activity_type=activity_type, date=data.date
        )
        if record is not None:
            duplicate = duplicate.exclude(pk=record.pk)
        if duplicate.exists():
            errors["date"].append(
                gettext("%(org)s already filed a %(type)s on %(date)s.")
                % {"org": org.name, "type": activity_type.name, "date": data.date.isoformat()}
            )
    expected: list[Member] = []
    if activity_type is not None:
        expected = list(expected_attendees(org, activity_type).only("pk", "name"))
        expected_ids = {m.pk for m in expected}
        strangers = (data.excused_ids | data.absent_ids) - expected_ids
        if strangers:
            # Name only members of this organization's branch; anyone else by id, so an error
            # never tells who is behind an id outside the user's scope.
            branch_id = org.parent_id if org.kind == OrganizationKind.GROUP else org.pk
            known = dict(
                Member.objects.filter(pk__in=strangers, branch_id=branch_id).values_list(
                    "pk", "name"
                )
            )
            names = "、".join(known.get(pk, f"#{pk}") for pk in sorted(strangers))
            message = (
                gettext("Only committee members attend a committee meeting: %(names)s.")
                if activity_type.committee_only
                else gettext("Not members of %(org)s: %(names)s.")
            )
            errors["attendance"].append(message % {"names": names, "org": org.name})
        if data.excused_ids & data.absent_ids:
            errors["attendance"].append(gettext("A member cannot be both excused and absent."))
    content_types = []
    for upload in data.attachments:
        try:
            content_types.append(validate_attachment(upload))
        except ValidationError as exc:
            errors["attachments"].extend(exc.messages)
    if errors:
        raise ValidationError(dict(errors))
    return expected, content_types


def _write_attendance_and_files(
    record: ActivityRecord, data: ActivityInput, expected: list[Member], content_types: list[str]
) -> None:
    Attendance.objects.filter(record=record).delete()
    rows = []
    for member in expected:
        if member.pk in data.excused_ids:
            status = AttendanceStatus.EXCUSED
        elif member.pk in data.absent_ids:
            status = AttendanceStatus.ABSENT
        else:
            status = AttendanceStatus.PRESENT
        rows.append(Attendance(record=record, member=member, status=status))
    Attendance.objects.bulk_create(rows)
    record.present_count = sum(r.status == AttendanceStatus.PRESENT for r in rows)
    record.excused_count = sum(r.status == AttendanceStatus.EXCUSED for r in rows)
    record.absent_count = sum(r.status == AttendanceStatus.ABSENT for r in rows)
    activity_type = data.activity_type
    # A committee meeting counts only when more than half of the committee is present.
    record.counts_for_compliance = not activity_type.committee_only or (
        record.present_count * 2 > len(rows)
    )
    record.save(
        update_fields=["present_count", "excused_count", "absent_count", "counts_for_compliance"]
    )
    for upload, content_type in zip(data.attachments, content_types, strict=True):
        Attachment.objects.create(
            record=record,
            file=upload,
            original_name=upload.name[:255],
            content_type=content_type,
            size=upload.size,
        )


def file_activity_record(user: User, data: ActivityInput) -> ActivityRecord:
    """File a new record with its attendance and attachments: all of it or nothing."""
    if not can_write_for(user, data.organization):
        raise PermissionDenied(gettext("You cannot file records for this organization."))
    expected, content_types = _validate_activity(data, None)
    try:
        with transaction.atomic():
            record = ActivityRecord.objects.create(
                organization=data.organization,
                activity_type=data.activity_type,
                type_name=data.activity_type.name,
                date=data.date,
                topic=data.topic.strip(),
                place=data.place.strip(),
                content=data.content,
                filed_by=user,
            )
            _write_attendance_and_files(record, data, expected, content_types)
    except IntegrityError as exc:  # a duplicate filed at the same moment by someone else
        raise ValidationError(
            {"date": [gettext("This organization already filed this activity on that day.")]}
        ) from exc
    return record


def can_edit_record(user: User, record: ActivityRecord) -> bool:
    if not can_write_for(user, record.organization):
        return False
    if user.is_committee_staff:
        return True
    window = datetime.timedelta(days=settings.ACTIVITY_EDIT_WINDOW_DAYS)
    return record.filed_at >= timezone.now() - window


def update_activity_record(
    user: User, record: ActivityRecord, data: ActivityInput, remove_attachment_ids=()
) -> ActivityRecord:
    """Change a record. After the edit window (30 days by default) only staff may."""
    if not can_write_for(user, record.organization) or data.organization != record.organization:
        raise PermissionDenied(gettext("You cannot change records of this organization."))
    if not can_edit_record(user, record):
        raise PermissionDenied(
            gettext(
                "Records filed more than %(days)d days ago can only be changed by committee staff."
            )
            % {"days": settings.ACTIVITY_EDIT_WINDOW_DAYS}
        )
    expected, content_types = _validate_activity(data, record)
    try:
        with transaction.atomic():
            record.activity_type = data.activity_type
            record.type_name = data.activity_type.name
            record.date = data.date
            record.topic = data.topic.strip()
            record.place = data.place.strip()
            record.content = data.content
            record.save()
            if remove_attachment_ids:
                for attachment in record.attachments.filter(pk__in=remove_attachment_ids):
                    # The file goes only once the change is committed: a rollback keeps it.
                    name, storage = attachment.file.name, attachment.file.storage
                    attachment.delete()
                    transaction.on_commit(lambda n=name, s=storage: s.delete(n))
            _write_attendance_and_files(record, data, expected, content_types)
    except IntegrityError as exc:
        raise ValidationError(
            {"date": [gettext("This organization already filed this activity on that day.")]}
        ) from exc
    return record


def delete_activity_record(user: User, record: ActivityRecord) -> None:
    if not can_edit_record(user, record):
        raise PermissionDenied(gettext("You cannot delete this record."))
    with transaction.atomic():
        files = [a.file for a in record.attachments.all()]
        record.delete()
        transaction.on_commit(lambda: [f.delete(save=False) for f in files])


def refresh_attendance_counts(record: ActivityRecord) -> None:
    """Recount attendance after staff edited it in the admin (quorum included)."""
    rows = list(record.attendances.values_list("status", flat=True))
    record.present_count = rows.count(AttendanceStatus.PRESENT)
    record.excused_count = rows.count(AttendanceStatus.EXCUSED)
    record.absent_count = rows.count(AttendanceStatus.ABSENT)
    if record.activity_type is not None and record.activity_type.committee_only:
        record.counts_for_compliance = record.present_count * 2 > len(rows)
    record.save(
        update_fields=["present_count", "excused_count", "absent_count", "counts_for_compliance"]
    )
