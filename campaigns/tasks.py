"""Celery tasks of the campaigns app: thin, idempotent wrappers of the services."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="campaigns.mark_overdue_problems")
def mark_overdue_problems() -> int:
    """Daily (beat): mark problems past their deadline overdue and tell their secretaries,
    once. Returns how many were newly marked."""
    from . import services

    return services.mark_overdue()
