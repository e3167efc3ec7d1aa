"""Celery tasks of the reminders app: thin, idempotent wrappers of the services, run in the
portal's language (the reminders' texts are Chinese whatever the worker's locale)."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.utils import translation


@shared_task(name="reminders.build_owed_reminders")
def build_owed_reminders() -> int:
    """Monthly (beat, the 20th by default): what each organization still owes this month.
    Returns how many reminders were new; a second run the same month makes none."""
    from . import services

    with translation.override(settings.LANGUAGE_CODE):
        made = services.build_owed_reminders()
        services.deliver_due()
    return len(made)


@shared_task(name="reminders.build_daily_reminders")
def build_daily_reminders() -> int:
    """Daily (beat): elections, re-reviews and problems falling due or overdue. Returns how
    many reminders were new."""
    from . import services

    with translation.override(settings.LANGUAGE_CODE):
        made = services.build_daily_reminders()
        services.deliver_due()
    return len(made)


@shared_task(name="reminders.deliver_due")
def deliver_due() -> dict[str, int]:
    """Every few minutes (beat): send the deliveries whose time has come (first tries and
    retries)."""
    from . import services

    with translation.override(settings.LANGUAGE_CODE):
        return services.deliver_due()
