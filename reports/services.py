"""Writes of the reports app: building bulletins and ledger export jobs."""

from __future__ import annotations

import datetime
import logging
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext

from accounts import access
from branches.bulk import insert_rows
from branches.compliance import compliance_due_in_month
from branches.models import Organization, OrganizationKind
from branches.periods import Period

from .ledgers import Ledger, LedgerParams, get_ledger, params_from_json, write_xlsx
from .models import Bulletin, BulletinRow, BulletinUnitRow, ExportStatus, LedgerExport
from .rules import rank_units

if TYPE_CHECKING:
    from accounts.models import User

logger = logging.getLogger(__name__)


def previous_month(now: datetime.datetime | None = None) -> Period:
    """The month before `now` as the committee's calendar has it (Asia/Shanghai)."""
    local_day = timezone.localtime(now or timezone.now()).date()
    return Period.containing("month", local_day.replace(day=1) - datetime.timedelta(days=1))


def month_has_ended(month: Period, today: datetime.date | None = None) -> bool:
    """A month's bulletin judges the whole month: only a month that has ended has one."""
    return month.end < (today or timezone.localdate())


def refuse_unfinished_month(month: Period, today: datetime.date | None = None) -> None:
    if not month_has_ended(month, today):
        raise ValidationError(
            gettext("%(month)s has not ended: its bulletin can be built from %(day)s on.")
            % {"month": month.label, "day": (month.end + datetime.timedelta(days=1)).isoformat()}
        )


@transaction.atomic
def build_bulletin(
    month: Period, *, user: User | None = None, today: datetime.date | None = None
) -> Bulletin:
    """Build (or rebuild) the bulletin of `month`, city-wide, as the rules stand now.

    With it, the problems (campaigns) overdue at the month's end: how many in the city, each
    unit's count and list, each line's (`problems_overdue_at_month_end`); an organization that
    owed nothing has a line for its overdue problems, as for an overdue election.

    Idempotent: one bulletin per month; a rebuild replaces its lines in the same transaction.
    Lines are snapshots, so a rule changed later does not rewrite a published bulletin. A
    month that has not ended is refused (ValidationError): a bulletin is never provisional.
    """
    if user is not None:
        access.require(user, "bulletin.build")
    if month.kind != "month":
        raise ValueError("A bulletin covers one month.")
    refuse_unfinished_month(month, today)
    # Groups are judged inside their branch's line (its 党小组会), not as lines of their own.
    organizations = Organization.objects.judged_on_their_own()
    results = compliance_due_in_month(organizations, month, today=today)
    info = {
        o["pk"]: o
        for o in organizations.values(
            "pk", "name", "code", "kind", "unit_id", "unit__name", "unit__sort_order"
        )
    }
    overdue = problems_overdue_at_month_end(month)
    rows: list[BulletinRow] = []
    for org_id, result in results.items():
        problems = overdue.by_line.get(org_id, [])
        if not result.owed and not result.election_overdue and not problems:
            continue  # owes nothing this month (a committee, or founded since)
        org = info[org_id]
        rows.append(
            BulletinRow(
                organization_id=org_id,
                unit_id=org["unit_id"],
                organization_name=org["name"],
                organization_code=org["code"],
                organization_kind=org["kind"],
                unit_name=org["unit__name"],
                owed=result.owed,
                held=result.held,
                missing=result.missing,
                missing_detail=result.missing_detail()[:500],
                election_due_on=result.election_due_on,
                election_overdue=result.election_overdue,
                overdue_problem_count=len(problems),
                overdue_problem_detail=_problem_detail(problems),
            )
        )
    ranked = rank_units(
        (
            info[org_id]["unit_id"],
            info[org_id]["unit__name"],
            info[org_id]["unit__sort_order"],
            result,
        )
        for org_id, result in results.items()
    )
    owing = [r for r in rows if r.owed]
    bulletin, _created = Bulletin.objects.update_or_create(
        month=month.start,
        defaults=dict(
            built_at=timezone.now(),
            built_by=user,
            organization_count=len(owing),
            compliant_count=sum(r.missing == 0 for r in owing),
            owed=sum(r.owed for r in owing),
            held=sum(r.held for r in owing),
            overdue_election_count=sum(r.election_overdue for r in rows),
            overdue_problem_count=overdue.count,
        ),
    )
    bulletin.rows.all().delete()
    bulletin.unit_rows.all().delete()
    for row in rows:
        row.bulletin = bulletin
    insert_rows(BulletinRow, rows)  # COPY on PostgreSQL: 6,000 rows at province scale
    BulletinUnitRow.objects.bulk_create(
        [
            BulletinUnitRow(
                bulletin=bulletin,
                unit_id=u.unit_id,
                unit_name=u.name,
                rank=rank,
                organization_count=u.organizations,
                compliant_count=u.compliant,
                owed=u.owed,
                held=u.held,
                compliance_rate=u.rate,
                overdue_problem_count=len(overdue.by_unit.get(u.unit_id, [])),
                overdue_problems=overdue.by_unit.get(u.unit_id, []),
            )
            for rank, u in enumerate(ranked, start=1)
        ]
    )
    return bulletin


# -- overdue problems (campaigns) in the bulletin ---------------------------------------------


@dataclass
class OverdueAtMonthEnd:
    """The problems overdue at the end of a month: how many in the city, each unit's (a
    problem of a joint committee is each of its units'), and each bulletin line's."""

    count: int = 0
    by_unit: dict[int, list[dict]] = field(default_factory=dict)
    by_line: dict[int, list[dict]] = field(default_factory=dict)


def problems_overdue_at_month_end(month: Period) -> OverdueAtMonthEnd:
    """Problems past their deadline and not accepted at the end of `month`
    (`campaigns.rules.is_overdue`, as the daily task judges them on the next day): a problem
    accepted since still counts in the month it was overdue, and a rebuilt bulletin says what
    the month's end saw. Two queries, whatever the number of problems: the problems (their
    acceptance a subquery) and the other units of the joint committees among them.

    Units follow the one rule of "belongs to a unit" (`Organization.objects.of_unit`): a joint
    committee's problem is listed under its host unit and each unit it spans. Lines follow the
    bulletin's: a group's problem is on its branch's line."""
    from campaigns.models import Problem, ProblemEvent, ProblemState
    from campaigns.rules import is_overdue

    next_day = month.end + datetime.timedelta(days=1)  # the daily task's "today"
    cutoff = timezone.make_aware(
        datetime.datetime.combine(next_day, datetime.time.min), timezone.get_default_timezone()
    )
    accepted = ProblemEvent.objects.filter(
        problem=OuterRef("pk"), to_state=ProblemState.ACCEPTED
    ).order_by("at")
    rows = (
        Problem.objects.filter(deadline__lt=next_day)
        .annotate(accepted_at=Subquery(accepted.values("at")[:1]))
        # Accepted by the month's end (or accepted with no history to say when): not overdue.
        .exclude(
            Q(state=ProblemState.ACCEPTED)
            & (Q(accepted_at__isnull=True) | Q(accepted_at__lt=cutoff))
        )
        .order_by("deadline", "pk")
        .values(
            "pk",
            "state",
            "deadline",
            "category",
            "description",
            "severity",
            "organization_id",
            "organization__name",
            "organization__code",
            "organization__kind",
            "organization__parent_id",
            "organization__unit_id",
            "group__name",
            "group__campaign__name",
        )
    )
    found = OverdueAtMonthEnd()
    problems = []
    for row in rows:
        # Not accepted when the month ended, whatever it is now.
        state = ProblemState.SUBMITTED if row["state"] == ProblemState.ACCEPTED else row["state"]
        if is_overdue(state, row["deadline"], next_day):
            problems.append(row)
    joint: dict[int, list[int]] = defaultdict(list)
    due = Problem.objects.filter(deadline__lt=next_day).values("organization_id")
    for organization_id, unit_id in Organization.joint_units.through.objects.filter(
        organization_id__in=due  # a subquery: however many problems, no list of ids
    ).values_list("organization_id", "unit_id"):
        joint[organization_id].append(unit_id)
    for row in problems:
        item = {
            "organization_name": row["organization__name"],
            "organization_code": row["organization__code"],
            "category": row["category"],
            "description": row["description"][:300],
            "severity": row["severity"],
            "deadline": row["deadline"].isoformat(),
            "campaign": row["group__campaign__name"] or "",
            "group": row["group__name"] or "",
        }
        units = dict.fromkeys([row["organization__unit_id"], *joint[row["organization_id"]]])
        for unit_id in units:
            found.by_unit.setdefault(unit_id, []).append(item)
        line = (
            row["organization__parent_id"]
            if row["organization__kind"] == OrganizationKind.GROUP
            else row["organization_id"]
        )
        found.by_line.setdefault(line, []).append(item)
    found.count = len(problems)
    return found


def _problem_detail(problems: list[dict]) -> str:
    """A line's overdue problems in a few words each: "description（deadline）"."""
    text = "；".join(
        f"{Truncator(p['description']).chars(40)}（{p['deadline']}）" for p in problems
    )
    return Truncator(text).chars(500)


# -- ledger exports ---------------------------------------------------------------------------


def ledger_for(user: User, code: str, params: LedgerParams) -> Ledger:
    ledger_cls = get_ledger(code)
    if ledger_cls is None:
        raise ValidationError(gettext("Unknown ledger: %(code)s") % {"code": code})
    access.require(user, "ledger.download")
    return ledger_cls(user, params)


def start_export(user: User, code: str, params: LedgerParams) -> LedgerExport:
    """Queue a background build of a ledger; the task is sent after the transaction commits.

    With the broker down the user is told so at once (ValidationError) and no job is left
    behind; a message lost after that leaves a job that the sweep fails and the owner retries.
    """
    ledger = ledger_for(user, code, params)
    ensure_broker()
    export = LedgerExport.objects.create(
        owner=user,
        ledger=code,
        params=params.to_json(),
        rows_total=ledger.count(),
        queued_at=timezone.now(),
    )
    transaction.on_commit(lambda: _send(export.pk))
    return export


def ensure_broker() -> None:
    """Refuse, in words, to queue work that no worker could receive (broker unreachable)."""
    from config.celery import app

    if app.conf.task_always_eager:
        return
    try:
        with app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, timeout=3)
    except Exception as exc:  # kombu raises several kinds; every one means "not now"
        logger.warning("Broker unreachable: %s", exc)
        raise BrokerUnavailable(BROKER_DOWN()) from exc


class BrokerUnavailable(ValidationError):
    """No worker can be reached now: say so (a 503 in the API), and keep nothing behind."""


def BROKER_DOWN() -> str:  # noqa: N802 - a message, read at call time in the user's language
    return gettext(
        "The background service is not answering: the ledger could not be queued. Try again "
        "in a few minutes; if it keeps failing, tell the committee staff."
    )


def _send(export_id: int) -> None:
    from .tasks import build_ledger_export

    try:
        build_ledger_export.delay(export_id)
    except Exception:  # the broker went away between the check and the send
        if LedgerExport.objects.filter(pk=export_id, status=ExportStatus.PENDING).exists():
            logger.exception("Could not queue ledger export %s", export_id)
            LedgerExport.objects.filter(pk=export_id).update(
                status=ExportStatus.FAILED, error=BROKER_DOWN(), finished_at=timezone.now()
            )
        else:
            raise  # run eagerly and failed: run_export has recorded why


def stuck_cutoff(now: datetime.datetime | None = None) -> datetime.datetime:
    return (now or timezone.now()) - datetime.timedelta(
        minutes=settings.LEDGER_EXPORT_STUCK_MINUTES
    )


def stuck_exports(now: datetime.datetime | None = None):
    """Jobs that will not finish by themselves: running or queued for longer than
    LEDGER_EXPORT_STUCK_MINUTES (a killed worker, a lost message)."""
    cutoff = stuck_cutoff(now)
    return LedgerExport.objects.filter(
        Q(status=ExportStatus.RUNNING, started_at__lt=cutoff)
        | Q(status=ExportStatus.PENDING, queued_at__lt=cutoff)
    )


def remove_stale_temporary_files(before: datetime.datetime) -> int:
    """Files in WORK_TMP_DIR untouched since `before`: no live job is still writing them."""
    folder = Path(settings.WORK_TMP_DIR)
    removed = 0
    if not folder.is_dir():
        return 0
    for path in folder.iterdir():
        try:
            if path.is_file() and path.stat().st_mtime < before.timestamp():
                path.unlink()
                removed += 1
        except FileNotFoundError:  # removed meanwhile by its own job
            continue
    return removed


def sweep_stuck_exports(now: datetime.datetime | None = None) -> int:
    """Fail stuck jobs with a reason their owners can read, so they can retry them, and remove
    the temporary files that killed workers left in WORK_TMP_DIR."""
    remove_stale_temporary_files(stuck_cutoff(now))
    return stuck_exports(now).update(
        status=ExportStatus.FAILED,
        error=gettext(
            "The build stopped before it finished (the background worker was stopped or the "
            "job was lost). Build it again."
        ),
        finished_at=now or timezone.now(),
    )


def run_export(export_id: int) -> LedgerExport:
    """Build one export job. Safe to run twice: a finished job is left as it is.

    The file is written to a temporary file and stored only when complete, so nothing
    half-written is ever offered for download. Failures are recorded on the job, in words the
    owner can read.
    """
    export = LedgerExport.objects.select_related("owner__organization").get(pk=export_id)
    if export.status == ExportStatus.DONE:
        return export
    LedgerExport.objects.filter(pk=export.pk).update(
        status=ExportStatus.RUNNING, started_at=timezone.now(), rows_written=0, error=""
    )
    try:
        ledger_cls = get_ledger(export.ledger)
        if ledger_cls is None:
            raise ValidationError(gettext("Unknown ledger: %(code)s") % {"code": export.ledger})
        ledger = ledger_cls(export.owner, params_from_json(ledger_cls, export.owner, export.params))
        total = ledger.count()
        LedgerExport.objects.filter(pk=export.pk).update(rows_total=total)

        def progress(written: int) -> None:
            # Outside any transaction: pollers see each step as it happens.
            LedgerExport.objects.filter(pk=export.pk).update(rows_written=written)

        with tempfile.TemporaryFile() as tmp:
            written = write_xlsx(
                ledger, tmp, progress=progress, progress_every=settings.LEDGER_PROGRESS_EVERY
            )
            tmp.seek(0)
            export.refresh_from_db()
            export.file.save(ledger.filename(), File(tmp), save=False)
        export.status = ExportStatus.DONE
        export.rows_total = max(total, written)
        export.rows_written = written
        export.finished_at = timezone.now()
        export.save(update_fields=["file", "status", "rows_total", "rows_written", "finished_at"])
    except Exception as exc:  # recorded for the owner; the worker keeps going
        logger.exception("Ledger export %s failed", export_id)
        message = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        LedgerExport.objects.filter(pk=export.pk).update(
            status=ExportStatus.FAILED,
            error=message or exc.__class__.__name__,
            finished_at=timezone.now(),
        )
        export.refresh_from_db()
    return export


def retry_export(user: User, export: LedgerExport) -> LedgerExport:
    """Build a failed job again, or one stuck past LEDGER_EXPORT_STUCK_MINUTES."""
    access.require(user, "ledger.download", export)
    ensure_broker()
    # The condition is in the UPDATE: of two retries sent at once, only one queues the job.
    retryable = LedgerExport.objects.filter(pk=export.pk).filter(
        Q(status=ExportStatus.FAILED) | Q(pk__in=stuck_exports().values("pk"))
    )
    changed = retryable.update(
        status=ExportStatus.PENDING,
        error="",
        rows_written=0,
        queued_at=timezone.now(),
        started_at=None,
        finished_at=None,
    )
    if not changed:
        raise ValidationError(gettext("Only a failed or stopped export can be retried."))
    transaction.on_commit(lambda: _send(export.pk))
    export.refresh_from_db()
    return export


def remove_old_exports(now: datetime.datetime | None = None) -> int:
    """Delete exports (and their files) older than LEDGER_EXPORT_KEEP_DAYS."""
    cutoff = (now or timezone.now()) - datetime.timedelta(days=settings.LEDGER_EXPORT_KEEP_DAYS)
    removed = 0
    for export in LedgerExport.objects.filter(created_at__lt=cutoff).iterator():
        if export.file:
            export.file.delete(save=False)
        export.delete()
        removed += 1
    return removed
