"""Celery tasks of the evaluations app: thin, idempotent wrappers of the services."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="evaluations.list_due_re_reviews")
def list_due_re_reviews() -> int:
    """Daily (beat): list the titles coming due for re-review within a month. Returns how many
    were newly listed; a second run the same day lists none."""
    from . import services

    return len(services.list_due_re_reviews())
