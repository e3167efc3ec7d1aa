"""The rules of reminding, as plain functions: what counts as due, each kind's period key, how
a failed delivery is retried. The selections themselves call the apps' own selectors."""

from __future__ import annotations

import datetime

from .models import Kind

# A problem's deadline is near within this many days.
PROBLEM_DUE_DAYS = 7

# After the 1st, 2nd, 3rd failure, wait this long; the 4th failure is final.
RETRY_DELAYS = (
    datetime.timedelta(minutes=5),
    datetime.timedelta(minutes=30),
    datetime.timedelta(hours=2),
)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1


def next_attempt_after(attempts: int, now: datetime.datetime) -> datetime.datetime | None:
    """When to try again after `attempts` failed attempts; None: failed for good."""
    if attempts >= MAX_ATTEMPTS:
        return None
    return now + RETRY_DELAYS[attempts - 1]


# --- period keys (docs/dashboard.md) ---------------------------------------------------------


def month_key(day: datetime.date) -> str:
    return f"{day:%Y-%m}"


def owed_period(today: datetime.date) -> str:
    return month_key(today)


def election_due_period(due_on: datetime.date) -> str:
    return due_on.isoformat()


def election_overdue_period(today: datetime.date) -> str:
    """Once a month while the election stays overdue."""
    return month_key(today)


def re_review_period(designation_id: int, valid_until: datetime.date) -> str:
    return f"{designation_id}:{valid_until.isoformat()}"


def problem_due_period(problem_id: int, deadline: datetime.date) -> str:
    return f"{problem_id}:{deadline.isoformat()}"


def problem_overdue_period(problem_id: int) -> str:
    return str(problem_id)


# Kinds whose period names the object itself (a problem, a title): the notice's key is the
# period. The others (a month, a date) are qualified by the organization.
_OBJECT_KINDS = {Kind.RE_REVIEW_DUE, Kind.PROBLEM_DUE, Kind.PROBLEM_OVERDUE}


def notice_key(kind: str, organization_id: int, period: str) -> str:
    """The key of the portal notice of a reminder (accounts.Notice: one per user, kind, key).
    An overdue problem's notice keeps the key it always had: the problem's id."""
    if kind in _OBJECT_KINDS:
        return period
    return f"{organization_id}:{period}"
