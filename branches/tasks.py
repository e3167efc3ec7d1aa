"""Thin, idempotent Celery tasks over branches' modules; they take ids, never objects."""

from celery import shared_task
from django.db import close_old_connections

from . import roster_jobs


@shared_task(bind=True, name="branches.run_roster_import")
def run_roster_import(self, job_id: int) -> str:
    """Check or save a roster import, whichever its status says is due (nothing if done)."""
    try:
        return roster_jobs.run_roster_import(job_id).status
    finally:
        # Long work: do not hand a stale connection to the next task. Not when run eagerly
        # (dev without Redis, tests): the caller's connection is in use, maybe in a transaction.
        if not self.request.is_eager:
            close_old_connections()


@shared_task(name="branches.remove_stale_roster_imports")
def remove_stale_roster_imports() -> int:
    """Remove uploads of roster imports nobody confirmed (beat, daily)."""
    return roster_jobs.remove_stale_roster_imports()


@shared_task(name="branches.clear_pending_uploads")
def clear_pending_uploads() -> int:
    """Remove photos of abandoned activity forms (older than ACTIVITY_PENDING_UPLOAD_HOURS)."""
    from . import services

    return services.clear_pending_uploads()


@shared_task(name="branches.refresh_counts")
def refresh_counts() -> int:
    """Recompute the stored counts (beat, daily): repairs whatever a write that bypassed
    `branches.counts` left behind. Returns how many rows changed."""
    from . import counts

    return counts.refresh_counts()
