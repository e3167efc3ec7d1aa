"""Thin, idempotent Celery tasks over reports.services; they take ids, never objects."""

from celery import shared_task
from django.db import close_old_connections

from branches.periods import Period

from . import services


@shared_task(name="reports.build_previous_month_bulletin")
def build_previous_month_bulletin() -> int:
    """Beat: on the 1st at 02:00 Asia/Shanghai, the bulletin of the month before."""
    return services.build_bulletin(services.previous_month()).pk


@shared_task(name="reports.build_bulletin")
def build_bulletin(month: str, user_id: int | None = None) -> int:
    from accounts.models import User

    user = User.objects.filter(pk=user_id).first() if user_id else None
    return services.build_bulletin(Period.parse(month), user=user).pk


# Acknowledged after it ran, and sent again if the worker dies (settings: acks late, reject on
# worker lost): run_export is safe to run twice.
@shared_task(bind=True, name="reports.build_ledger_export")
def build_ledger_export(self, export_id: int) -> str:
    try:
        return services.run_export(export_id).status
    finally:
        # Long work: do not hand a stale connection to the next task. Not when run eagerly
        # (dev without Redis, tests): the caller's connection is in use, maybe in a transaction.
        if not self.request.is_eager:
            close_old_connections()


@shared_task(name="reports.remove_old_exports")
def remove_old_exports() -> int:
    return services.remove_old_exports()


@shared_task(name="reports.sweep_stuck_exports")
def sweep_stuck_exports() -> int:
    """Beat, every 10 minutes: fail jobs that a killed worker or a lost message left behind."""
    return services.sweep_stuck_exports()
