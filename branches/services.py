"""Writes for the organ tree: the roster (党员名册) import/export, and filing activity records."""

from __future__ import annotations

import datetime
import io
import os
from collections import defaultdict
from dataclasses import dataclass, field
from os import PathLike
from typing import IO, TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Count, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext

from accounts import access
from reports.ledgers import write_xlsx

from .models import (
    ActivityRecord,
    ActivityType,
    Attachment,
    Attendance,
    AttendanceStatus,
    Member,
    Organization,
    OrganizationKind,
    PendingUpload,
)
from .roster import (
    CSV,
    XLSX,
    RosterFileError,
    RosterFileLedger,
    RosterImportReport,
    RowError,  # noqa: F401 (the roster's results are imported from here)
    read_roster,
    save_roster,
)
from .rules import counts_for_compliance
from .selectors import expected_attendees

if TYPE_CHECKING:
    from accounts.models import User

ROSTER_FORMATS = (XLSX, CSV)


def import_roster(
    file_or_bytes: bytes | IO[bytes] | str | PathLike,
    *,
    file_format: str = "xlsx",
    user: User | None = None,
) -> RosterImportReport:
    """Import a roster file whole or not at all, and report every bad row.

    `user` scopes the import to the organizations and members that user may see (None: a
    trusted caller, no scope) and is recorded as the author in the members' history.
    Inspectors, who only read, may not import. Reading, checking and saving are
    `branches.roster`'s: a fixed handful of queries and bulk writes, whatever the size.
    """
    if user is not None:
        access.require(user, "roster.import", message=gettext("You may not import the roster."))
    if file_format not in ROSTER_FORMATS:
        raise ValueError(f"Unsupported roster format: {file_format!r}")
    try:
        table = read_roster(file_or_bytes, file_format=file_format)
    except RosterFileError as e:  # unreadable, too large, wrong header row: one report
        return RosterImportReport(errors=e.errors)
    return save_roster(table, user)


def export_roster(user: User, queryset: QuerySet[Member] | None = None) -> bytes:
    """The roster as .xlsx, in the columns the import reads (`RosterFileLedger`), for `user`:
    of `queryset` (default: every member) those in the user's scope."""
    out = io.BytesIO()
    write_xlsx(RosterFileLedger(user, queryset), out)
    return out.getvalue()


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


MB = 1024 * 1024


def validate_attachment(upload: UploadedFile) -> str:
    """Return the sniffed content type, or raise a ValidationError naming the file."""
    max_bytes = settings.ACTIVITY_ATTACHMENT_MAX_MB * MB
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


def original_name_of(upload: UploadedFile) -> str:
    """The name the user gave the file, kept as data only (the download's name), cut to the
    field's length with its extension kept. The stored file gets a generated name
    (`models.attachment_path`)."""
    name = os.path.basename((upload.name or "").replace("\\", "/")).strip() or "file"
    limit = Attachment._meta.get_field("original_name").max_length
    if len(name) > limit:
        stem, extension = os.path.splitext(name)
        extension = extension if len(extension) <= 16 else ""
        name = stem[: limit - len(extension)] + extension
    return name


def attachment_limits_text() -> str:
    """The limits in words, for help texts next to the file inputs."""
    return gettext(
        "Up to %(file_mb)d MB a file; at most %(files)d files and %(total_mb)d MB per record."
    ) % {
        "file_mb": settings.ACTIVITY_ATTACHMENT_MAX_MB,
        "files": settings.ACTIVITY_ATTACHMENTS_MAX_FILES,
        "total_mb": settings.ACTIVITY_ATTACHMENTS_MAX_TOTAL_MB,
    }


def _attachment_cap_errors(
    record: ActivityRecord | None, new_sizes: list[int], remove_attachment_ids=()
) -> list[str]:
    """The per-record cap (ACTIVITY_ATTACHMENTS_MAX_FILES, ACTIVITY_ATTACHMENTS_MAX_TOTAL_MB):
    the record's attachments that stay plus the new ones."""
    count, total = len(new_sizes), sum(new_sizes)
    if record is not None and record.pk is not None:
        kept = Attachment.objects.filter(record=record).exclude(pk__in=list(remove_attachment_ids))
        stored = kept.aggregate(n=Count("pk"), total=Sum("size"))
        count += stored["n"]
        total += stored["total"] or 0
    errors = []
    max_files = settings.ACTIVITY_ATTACHMENTS_MAX_FILES
    max_total_mb = settings.ACTIVITY_ATTACHMENTS_MAX_TOTAL_MB
    if count > max_files:
        errors.append(
            gettext("A record holds at most %(max)d files; this one would hold %(count)d.")
            % {"max": max_files, "count": count}
        )
    if total > max_total_mb * MB:
        errors.append(
            gettext(
                "A record holds at most %(max)d MB of files; this one would hold %(total).1f MB."
            )
            % {"max": max_total_mb, "total": total / MB}
        )
    return errors


def attachment_cap_errors(
    record: ActivityRecord | None, new_sizes: list[int], remove_attachment_ids=()
) -> list[str]:
    """For a form that checks the cap before saving (the admin's attachment lines): the
    messages, empty when `new_sizes` fit on `record` once `remove_attachment_ids` are gone."""
    return _attachment_cap_errors(record, new_sizes, remove_attachment_ids)


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
    # Files of an earlier try of the same form, kept for the user (portal only).
    pending: list[PendingUpload] = field(default_factory=list)


def validate_activity(
    data: ActivityInput, record: ActivityRecord | None = None, remove_attachment_ids=()
) -> None:
    """Every error the service would raise, without writing anything: for a form refused by
    its own checks, so that all the errors come back in one round. Fields left empty by the
    form's errors (None, "") are reported here too; the form keeps its own message for them."""
    _validate_activity(data, record, remove_attachment_ids)


def _validate_activity(
    data: ActivityInput, record: ActivityRecord | None, remove_attachment_ids=()
) -> tuple[list, list]:
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
    new_sizes = [p.size for p in data.pending]
    for upload in data.attachments:
        try:
            content_types.append(validate_attachment(upload))
            new_sizes.append(upload.size)
        except ValidationError as exc:
            errors["attachments"].extend(exc.messages)
    errors["attachments"].extend(_attachment_cap_errors(record, new_sizes, remove_attachment_ids))
    errors = {key: messages for key, messages in errors.items() if messages}
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
    _store_counts(record, data.activity_type, [r.status for r in rows])
    for upload, content_type in zip(data.attachments, content_types, strict=True):
        Attachment.objects.create(
            record=record,
            file=upload,
            original_name=original_name_of(upload),
            content_type=content_type,
            size=upload.size,
        )
    _attach_pending(record, data.pending)


def _attach_pending(record: ActivityRecord, pending: list[PendingUpload]) -> None:
    """The kept files of earlier tries become the record's attachments (copied to the record's
    folder); the pending files go once the change is committed."""
    if not pending:
        return
    # Locked and read again: a second submit of the same form finds them gone.
    found = PendingUpload.objects.select_for_update().filter(
        pk__in=[p.pk for p in pending], user_id=pending[0].user_id
    )
    for item in found:
        with item.file.open("rb") as handle:
            Attachment.objects.create(
                record=record,
                file=File(handle, name=item.original_name),
                original_name=item.original_name,
                content_type=item.content_type,
                size=item.size,
            )
        name, storage = item.file.name, item.file.storage
        item.delete()
        transaction.on_commit(lambda n=name, s=storage: s.delete(n))


def _check_pending_owner(user: User, data: ActivityInput) -> None:
    if any(p.user_id != user.pk for p in data.pending):
        raise PermissionDenied(gettext("These files were not sent by you."))


def file_activity_record(user: User, data: ActivityInput) -> ActivityRecord:
    """File a new record with its attendance and attachments: all of it or nothing."""
    access.require(
        user,
        "activity.file",
        data.organization,
        gettext("You cannot file records for this organization."),
    )
    _check_pending_owner(user, data)
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


def update_activity_record(
    user: User, record: ActivityRecord, data: ActivityInput, remove_attachment_ids=()
) -> ActivityRecord:
    """Change a record. After the edit window (30 days by default) only staff may."""
    refusal = change_refusal(user, record)
    if refusal is None and data.organization != record.organization:
        refusal = gettext("You cannot change records of this organization.")
    if refusal is not None:
        raise PermissionDenied(refusal)
    _check_pending_owner(user, data)
    expected, content_types = _validate_activity(data, record, remove_attachment_ids)
    try:
        with transaction.atomic():
            _lock(record)
            # Again under the lock: two changes at the same moment cannot pass the cap together.
            new_sizes = [u.size for u in data.attachments] + [p.size for p in data.pending]
            cap = _attachment_cap_errors(record, new_sizes, remove_attachment_ids)
            if cap:
                raise ValidationError({"attachments": cap})
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


def _lock(record: ActivityRecord) -> None:
    """Lock the record's row before changing what hangs on it: a change and a delete of one
    record at the same moment then run one after the other instead of deadlocking."""
    locked = ActivityRecord.objects.select_for_update().filter(pk=record.pk).values_list("pk")
    if not list(locked):
        raise ValidationError(gettext("This record has been deleted meanwhile."))


def change_refusal(user: User, record: ActivityRecord) -> str | None:
    """Why `user` may not change or delete `record` (None: they may), in words for them."""
    if access.can(user, "activity.change", record):
        return None
    if access.can(user, "activity.file", record.organization):
        return edit_window_message()
    return gettext("You cannot change records of this organization.")


def edit_window_message() -> str:
    return gettext(
        "Records filed more than %(days)d days ago can only be changed by committee staff."
    ) % {"days": settings.ACTIVITY_EDIT_WINDOW_DAYS}


def delete_activity_record(user: User, record: ActivityRecord) -> None:
    if not access.can(user, "activity.change", record):
        raise PermissionDenied(gettext("You cannot delete this record."))
    with transaction.atomic():
        _lock(record)
        files = [a.file for a in record.attachments.all()]
        record.delete()
        transaction.on_commit(lambda: [f.delete(save=False) for f in files])


def add_attachment(user: User, record: ActivityRecord, upload: UploadedFile) -> Attachment:
    """Attach one photo or the minutes to a record (the admin's attachment lines): checked
    like an upload in the portal, with its name, sniffed type and size stored."""
    if not access.can(user, "activity.change", record):
        raise PermissionDenied(change_refusal(user, record))
    content_type = validate_attachment(upload)
    with transaction.atomic():
        _lock(record)
        cap = _attachment_cap_errors(record, [upload.size])
        if cap:
            raise ValidationError(cap)
        return Attachment.objects.create(
            record=record,
            file=upload,
            original_name=original_name_of(upload),
            content_type=content_type,
            size=upload.size,
        )


# --- Files of a form that came back with errors ------------------------------------------------


def _pending_cutoff() -> datetime.datetime:
    return timezone.now() - datetime.timedelta(hours=settings.ACTIVITY_PENDING_UPLOAD_HOURS)


def pending_uploads(user: User, token: str) -> list[PendingUpload]:
    """The files kept for this user's form (`token`): never another user's."""
    if not token or not getattr(user, "pk", None):
        return []
    return list(
        PendingUpload.objects.filter(user=user, token=token, uploaded_at__gte=_pending_cutoff())
    )


def _delete_pending(queryset: QuerySet[PendingUpload]) -> int:
    items = list(queryset)
    for item in items:
        name, storage = item.file.name, item.file.storage
        item.delete()
        transaction.on_commit(lambda n=name, s=storage: s.delete(n))
    return len(items)


def discard_pending_uploads(user: User, token: str, ids: list[int] | None = None) -> int:
    """Drop this user's kept files of a form (those ticked "remove": `ids`)."""
    if not token or not getattr(user, "pk", None):
        return 0
    found = PendingUpload.objects.filter(user=user, token=token)
    if ids is not None:
        found = found.filter(pk__in=ids)
    return _delete_pending(found)


def keep_pending_uploads(
    user: User,
    token: str,
    uploads: list[UploadedFile],
    *,
    record: ActivityRecord | None = None,
    remove_attachment_ids=(),
) -> list[str]:
    """Keep the good files of a form that came back with errors, for this user and form, so
    that the next try need not send them again. Bad files are not kept (their errors are on
    the form); nor are files beyond the record's cap. Returns the messages for those."""
    if not token or not getattr(user, "pk", None):
        return []
    sizes = [p.size for p in pending_uploads(user, token)]
    over: list[str] = []
    for upload in uploads:
        try:
            content_type = validate_attachment(upload)
        except ValidationError:
            continue
        if _attachment_cap_errors(record, [*sizes, upload.size], remove_attachment_ids):
            over.append(upload.name)
            continue
        PendingUpload.objects.create(
            user=user,
            token=token,
            file=upload,
            original_name=original_name_of(upload),
            content_type=content_type,
            size=upload.size,
        )
        sizes.append(upload.size)
    if not over:
        return []
    return [
        gettext("Not kept, over the limit of a record: %(names)s.") % {"names": "、".join(over)}
    ]


def clear_pending_uploads(older_than: datetime.timedelta | None = None) -> int:
    """Delete the kept files of abandoned forms (anybody's), older than
    ACTIVITY_PENDING_UPLOAD_HOURS by default. Run by `manage.py clear_pending_uploads` and at
    each submission of the filing form."""
    cutoff = timezone.now() - older_than if older_than is not None else _pending_cutoff()
    return _delete_pending(PendingUpload.objects.filter(uploaded_at__lt=cutoff))


def remove_attachment(user: User, attachment: Attachment) -> None:
    """Delete an attachment; its file goes only once the change is committed."""
    if not access.can(user, "activity.change", attachment.record):
        raise PermissionDenied(change_refusal(user, attachment.record))
    with transaction.atomic():
        name, storage = attachment.file.name, attachment.file.storage
        attachment.delete()
        transaction.on_commit(lambda: storage.delete(name))


def refresh_attendance_counts(record: ActivityRecord) -> None:
    """Recount attendance after staff edited it in the admin (quorum included)."""
    _store_counts(
        record, record.activity_type, list(record.attendances.values_list("status", flat=True))
    )


def _store_counts(
    record: ActivityRecord, activity_type: ActivityType | None, statuses: list[str]
) -> None:
    """Attendance counts and whether the record counts (the quorum rule in `rules.py`)."""
    record.present_count = statuses.count(AttendanceStatus.PRESENT)
    record.excused_count = statuses.count(AttendanceStatus.EXCUSED)
    record.absent_count = statuses.count(AttendanceStatus.ABSENT)
    committee_only = activity_type is not None and activity_type.committee_only
    record.counts_for_compliance = counts_for_compliance(
        committee_only, record.present_count, len(statuses)
    )
    record.save(
        update_fields=["present_count", "excused_count", "absent_count", "counts_for_compliance"]
    )
