"""Every periodic clean-up is scheduled (migrations put them in django-celery-beat's tables),
and every scheduled task exists."""

from django_celery_beat.models import PeriodicTask

from config.celery import app

EXPECTED = {
    "reports.build_previous_month_bulletin",
    "reports.remove_old_exports",
    "reports.sweep_stuck_exports",
    "branches.remove_stale_roster_imports",
    "branches.clear_pending_uploads",
    "branches.refresh_counts",
    "evaluations.list_due_re_reviews",
    "campaigns.mark_overdue_problems",
    "reminders.build_owed_reminders",
    "reminders.build_daily_reminders",
    "reminders.deliver_due",
}


def test_every_clean_up_is_scheduled_and_every_schedule_has_a_task(db):
    app.loader.import_default_modules()
    scheduled = set(PeriodicTask.objects.filter(enabled=True).values_list("task", flat=True))
    assert scheduled >= EXPECTED
    assert scheduled <= set(app.tasks)
