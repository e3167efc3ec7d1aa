"""Reads of the reminders app: what falls due today, from the apps' own selectors and rules,
city-wide (the beat's view), each in one query whatever the number of organizations."""

from __future__ import annotations

import datetime

from django.db.models import QuerySet

from branches.models import Organization
from branches.selectors import elections_due_soon, overdue_elections
from campaigns.models import Problem
from evaluations.selectors import due_for_re_review

from . import rules
from .models import Delivery, Status


def elections_falling_due(today: datetime.date) -> list[dict]:
    """Organizations whose election falls due within TERM_DUE_SOON_DAYS (90) days."""
    return list(
        elections_due_soon(Organization.objects.all(), today).values(
            "pk", "name", "election_due_on"
        )
    )


def elections_overdue(today: datetime.date) -> list[dict]:
    return list(
        overdue_elections(Organization.objects.all(), today).values("pk", "name", "election_due_on")
    )


def titles_due_for_re_review(today: datetime.date) -> list[dict]:
    return list(
        due_for_re_review(None, today=today).values(
            "pk", "organization_id", "organization__name", "title", "valid_until"
        )
    )


def problems_due_soon(today: datetime.date) -> list[dict]:
    """Unresolved problems whose deadline is today or within PROBLEM_DUE_DAYS (7) days."""
    horizon = today + datetime.timedelta(days=rules.PROBLEM_DUE_DAYS)
    return list(
        Problem.objects.unresolved()
        .filter(deadline__gte=today, deadline__lte=horizon)
        .order_by("deadline", "pk")
        .values("pk", "organization_id", "description", "deadline")
    )


def problems_overdue() -> list[dict]:
    """Unresolved problems that the campaigns' daily task marked overdue (past their
    deadline, not accepted: `campaigns.services.mark_overdue`)."""
    return list(
        Problem.objects.marked_overdue()
        .order_by("deadline", "pk")
        .values("pk", "organization_id", "description", "deadline")
    )


def failed_deliveries() -> QuerySet[Delivery]:
    return Delivery.objects.filter(status=Status.FAILED)
