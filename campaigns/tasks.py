"""Celery tasks of the campaigns app: thin, idempotent wrappers of the services."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.utils import translation


@shared_task(name="campaigns.mark_overdue_problems")
def mark_overdue_problems() -> int:
    """Daily (beat): mark problems past their deadline overdue and have their secretaries told
    through the reminders app, once (in the portal's language). Returns how many were newly
    marked; the reminders' deliveries go out with `reminders.deliver_due`."""
    from . import services

    with translation.override(settings.LANGUAGE_CODE):
        return services.mark_overdue()
