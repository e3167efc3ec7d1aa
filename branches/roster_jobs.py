"""Roster imports in the admin as jobs (`RosterImport`), like the ledger exports.

An upload is looked at first, in the request (`start_roster_import`: size and archive limits,
format, header row; a refused file leaves nothing behind). Then the job checks every row (status
CHECKING -> CHECKED, or INVALID with every problem), the user confirms, and it saves the file all
or nothing (SAVING -> DONE, or INVALID when the data changed since the check). A file of at most
`ROSTER_IMPORT_SYNC_ROWS` rows is checked and saved while the page waits; a larger one by the
Celery task `branches.run_roster_import`, a thin wrapper over `run_roster_import` here, whose
page refreshes itself with the progress.

`run_roster_import` is idempotent: it does what the job's status says is due (check or save)
and nothing for a finished job; the save and the job's DONE are one transaction, with the job's
row locked, so a task delivered twice saves the file once. The stored upload is removed as soon
as the job is finished (done, refused, failed or cancelled), and a checked file nobody confirms
after `ROSTER_IMPORT_KEEP_HOURS` (`remove_stale_roster_imports`).

The model lives here rather than in models.py; the admin (loaded at start-up by the admin's
autodiscovery) and the task module import it, and a test checks its migration is in step.
"""

from __future__ import annotations

import datetime
import logging
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from accounts import access

from .roster import (
    RosterFileError,
    RowError,
    check_roster,
    inspect_roster,
    limit,
    read_roster,
    save_roster,
)

if TYPE_CHECKING:
    from accounts.models import User

logger = logging.getLogger(__name__)

# The page lists this many problems; a file with more says how many there were in all.
ERRORS_KEPT = 1000


class RosterImportStatus(models.TextChoices):
    CHECKING = "checking", _("Checking the file")
    CHECKED = "checked", _("Checked: waiting for your confirmation")
    INVALID = "invalid", _("Not imported: the file has errors")
    SAVING = "saving", _("Importing")
    DONE = "done", _("Imported")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


RUNNING = (RosterImportStatus.CHECKING, RosterImportStatus.SAVING)
FINISHED = (
    RosterImportStatus.INVALID,
    RosterImportStatus.DONE,
    RosterImportStatus.FAILED,
    RosterImportStatus.CANCELLED,
)


def roster_import_path(instance: RosterImport, filename: str) -> str:
    # Never the user's own file name in the path: a random one, the type kept.
    return f"roster_imports/{instance.owner_id}/{uuid.uuid4().hex}{Path(filename).suffix[:8]}"


class RosterImport(models.Model):
    """One roster file being imported in the admin: its check, its confirmation, its save."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.CASCADE,
        related_name="roster_imports",
    )
    original_name = models.CharField(_("file name"), max_length=255)
    file = models.FileField(_("file"), upload_to=roster_import_path, blank=True, max_length=255)
    file_format = models.CharField(_("format"), max_length=10)
    status = models.CharField(
        pgettext_lazy("import job", "status"),
        max_length=10,
        choices=RosterImportStatus.choices,
        default=RosterImportStatus.CHECKING,
    )
    rows_total = models.PositiveIntegerField(_("rows"), default=0)
    rows_read = models.PositiveIntegerField(_("rows read"), default=0)
    created_count = models.PositiveIntegerField(_("new members"), default=0)
    updated_count = models.PositiveIntegerField(_("changed members"), default=0)
    unchanged_count = models.PositiveIntegerField(_("unchanged members"), default=0)
    errors = models.JSONField(_("problems"), default=list, blank=True)
    error_count = models.PositiveIntegerField(_("number of problems"), default=0)
    failure = models.TextField(_("why it failed"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    checked_at = models.DateTimeField(_("checked at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        app_label = "branches"
        verbose_name = _("roster import")
        verbose_name_plural = _("roster imports")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=RosterImportStatus.values),
                name="roster_import_status_valid",
            ),
        ]
        indexes = [models.Index(fields=["owner", "-created_at"], name="roster_import_owner_idx")]

    def __str__(self) -> str:
        return f"{self.original_name} #{self.pk}"

    @property
    def is_running(self) -> bool:
        return self.status in RUNNING

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED

    @property
    def progress(self) -> int:
        """Percent of the rows read (0-99 while it runs; 100 once checked or finished)."""
        if not self.is_running:
            return 100
        if not self.rows_total:
            return 0
        return min(99, int(self.rows_read * 100 / self.rows_total))

    def problems(self) -> list[RowError]:
        return [RowError.from_json(e) for e in self.errors]


# --- starting, confirming, cancelling (the admin's requests) ------------------------------------


def _require_import(user: User) -> None:
    access.require(user, "roster.import", message=gettext("You may not import the roster."))


def start_roster_import(user: User, upload, *, name: str | None = None) -> RosterImport:
    """Look at an upload and keep it as a job, or raise `RosterFileError` (nothing is kept).

    A small file is checked at once; a larger one by a background task.
    """
    _require_import(user)
    name = name or getattr(upload, "name", "") or "roster"
    info = inspect_roster(upload, name=name)
    remove_stale_roster_imports()
    job = RosterImport.objects.create(
        owner=user,
        original_name=Path(name).name[:255],
        file_format=info.file_format,
        rows_total=info.estimated_rows,
    )
    upload.seek(0)
    job.file.save(name, File(upload, name=name), save=False)
    RosterImport.objects.filter(pk=job.pk).update(file=job.file.name)
    _run_or_queue(job)
    job.refresh_from_db()
    return job


def _small(job: RosterImport) -> bool:
    return 0 < job.rows_total <= limit("ROSTER_IMPORT_SYNC_ROWS")


def _run_or_queue(job: RosterImport) -> None:
    if _small(job):
        run_roster_import(job.pk)
        return
    from .tasks import run_roster_import as task

    transaction.on_commit(lambda: task.delay(job.pk))


def confirm_roster_import(user: User, job: RosterImport) -> RosterImport:
    """Save a checked file (now for a small one, else in the background)."""
    _require_import(user)
    moved = RosterImport.objects.filter(
        pk=job.pk, owner=user, status=RosterImportStatus.CHECKED
    ).update(status=RosterImportStatus.SAVING, rows_read=0, started_at=timezone.now())
    if not moved:
        raise ValidationError(gettext("This import can no longer be confirmed."))
    job.refresh_from_db()
    _run_or_queue(job)
    job.refresh_from_db()
    return job


def cancel_roster_import(user: User, job: RosterImport) -> RosterImport:
    """Drop a checked file without importing it."""
    _require_import(user)
    moved = RosterImport.objects.filter(
        pk=job.pk, owner=user, status=RosterImportStatus.CHECKED
    ).update(status=RosterImportStatus.CANCELLED, finished_at=timezone.now())
    if not moved:
        raise ValidationError(gettext("This import can no longer be cancelled."))
    job.refresh_from_db()
    _remove_file(job)
    return job


# --- running (a request for a small file, the task for a large one) ----------------------------


def _update(job: RosterImport, **fields) -> None:
    RosterImport.objects.filter(pk=job.pk).update(**fields)


def _finish(job: RosterImport, status: str, **fields) -> bool:
    """Move a job that is still running (the status it had when this run began) to `status`;
    False when it was not (a second delivery of the task found it finished by the first)."""
    return bool(
        RosterImport.objects.filter(pk=job.pk, status=job.status).update(status=status, **fields)
    )


def _remove_file(job: RosterImport) -> None:
    if job.file:
        job.file.delete(save=False)
    _update(job, file="")


def _errors_json(errors: list[RowError]) -> list[dict]:
    return [e.as_json() for e in errors[:ERRORS_KEPT]]


def _refuse(job: RosterImport, errors: list[RowError]) -> None:
    finished = _finish(
        job,
        RosterImportStatus.INVALID,
        errors=_errors_json(errors),
        error_count=len(errors),
        created_count=0,
        updated_count=0,
        unchanged_count=0,
        finished_at=timezone.now(),
    )
    if finished:
        _remove_file(job)


def _fail(job: RosterImport, message: str) -> None:
    if _finish(job, RosterImportStatus.FAILED, failure=message, finished_at=timezone.now()):
        _remove_file(job)


def _read(job: RosterImport):
    def progress(rows: int) -> None:
        # Outside any transaction: the page sees each step as it happens.
        _update(job, rows_read=rows)

    with job.file.open("rb") as handle:
        return read_roster(
            handle, name=job.original_name, file_format=job.file_format, progress=progress
        )


def _check(job: RosterImport) -> None:
    table = _read(job)
    _update(job, rows_total=len(table.rows))
    check = check_roster(table, job.owner)
    if check.errors:
        _refuse(job, check.errors)
        return
    _finish(
        job,
        RosterImportStatus.CHECKED,
        created_count=len(check.new),
        updated_count=len(check.changed),
        unchanged_count=check.unchanged,
        checked_at=timezone.now(),
    )


def _save(job: RosterImport) -> None:
    table = _read(job)
    with transaction.atomic():
        # The job's row is locked until the save commits: a second delivery of the task
        # waits here, then finds the job done.
        locked = RosterImport.objects.select_for_update().filter(
            pk=job.pk, status=RosterImportStatus.SAVING
        )
        if not list(locked.values_list("pk", flat=True)):
            return
        report = save_roster(table, job.owner, admin_log=True)
        if report.ok:
            _finish(
                job,
                RosterImportStatus.DONE,
                rows_read=len(table.rows),
                created_count=report.created,
                updated_count=report.updated,
                unchanged_count=report.unchanged,
                finished_at=timezone.now(),
            )
    if report.ok:
        _remove_file(job)
    else:
        # Since the check, the data changed (a branch renamed, a number taken): nothing was
        # saved, and the page says why.
        _refuse(job, report.errors)


def run_roster_import(job_id: int) -> RosterImport:
    """Do what the job's status says is due: check (CHECKING) or save (SAVING); nothing for
    any other status. Problems are recorded on the job, in words its owner can read."""
    job = RosterImport.objects.select_related("owner").get(pk=job_id)
    if job.status not in RUNNING:
        return job
    if job.status == RosterImportStatus.CHECKING:
        _update(job, started_at=timezone.now(), rows_read=0)
    try:
        _require_import(job.owner)  # again: the owner may have lost the right meanwhile
        if not job.file:
            raise RosterFileError.say(gettext("The uploaded file is no longer there."))
        if job.status == RosterImportStatus.CHECKING:
            _check(job)
        else:
            _save(job)
    except RosterFileError as exc:
        _refuse(job, exc.errors)
    except PermissionDenied as exc:
        _fail(job, str(exc) or gettext("You may not import the roster."))
    except Exception:  # recorded for the owner in their words; the worker keeps going
        logger.exception("Roster import %s failed", job_id)
        _fail(
            job,
            gettext(
                "The import stopped because of an unexpected error. Nothing was imported. "
                "Try again, or tell the system administrator."
            ),
        )
    job.refresh_from_db()
    return job


def remove_stale_roster_imports(now: datetime.datetime | None = None) -> int:
    """Remove the files of checked imports nobody confirmed (and of jobs a lost worker left
    running) after ROSTER_IMPORT_KEEP_HOURS; returns how many were removed."""
    cutoff = (now or timezone.now()) - datetime.timedelta(hours=limit("ROSTER_IMPORT_KEEP_HOURS"))
    stale = RosterImport.objects.filter(created_at__lt=cutoff).exclude(file="")
    removed = 0
    for job in stale.iterator():
        status = (
            RosterImportStatus.CANCELLED
            if job.status == RosterImportStatus.CHECKED
            else RosterImportStatus.FAILED
            if job.status in RUNNING
            else job.status
        )
        _update(job, status=status, finished_at=job.finished_at or timezone.now())
        _remove_file(job)
        removed += 1
    return removed
