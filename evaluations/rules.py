"""The rules of an evaluation, as plain functions: scoring, a stage's result, the application's
state machine, the conflict of interest and the criteria freeze."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

from .models import ApplicationStatus as S

HUNDRED = Decimal("100")
CENT = Decimal("0.01")

# The state machine: which status may follow which.
TRANSITIONS: dict[str, set[str]] = {
    S.DRAFT: {S.SUBMITTED, S.WITHDRAWN},
    S.SUBMITTED: {S.UNDER_REVIEW, S.WITHDRAWN, S.DRAFT},
    S.UNDER_REVIEW: {S.AWARDED, S.NOT_AWARDED},
    S.AWARDED: set(),
    S.NOT_AWARDED: set(),
    S.WITHDRAWN: set(),
}


def may_move(current: str, new: str) -> bool:
    return new in TRANSITIONS.get(current, set())


def rounded(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def sheet_total(scores: dict[int, Decimal], criteria: Iterable) -> Decimal:
    """A reviewer's total out of 100: each criterion's score as a share of its maximum,
    weighted. With equal weights and maxima adding to 100 it is the plain sum."""
    criteria = list(criteria)
    weights = sum((c.weight for c in criteria), Decimal(0))
    if not weights:
        return Decimal("0.00")
    earned = sum(
        (c.weight * scores.get(c.pk, Decimal(0)) / c.max_score for c in criteria), Decimal(0)
    )
    return rounded(earned / weights * HUNDRED)


def counted(ordered: list, trimmed_from: int) -> list:
    """Of a stage's sheets sorted by total, those its result counts: all, or from
    `trimmed_from` reviewers on all but the highest and the lowest (a trimmed mean)."""
    if trimmed_from and len(ordered) >= max(trimmed_from, 3):
        return ordered[1:-1]
    return ordered


def stage_result(totals: list[Decimal], trimmed_from: int) -> Decimal | None:
    """The mean of the reviewers' totals that `counted` keeps. None without any."""
    values = counted(sorted(totals), trimmed_from)
    if not values:
        return None
    return rounded(sum(values, Decimal(0)) / len(values))


def conflict_of_interest(reviewer, organization) -> bool:
    """The reviewer belongs to the organization, to one under it or to one above it."""
    own = getattr(reviewer, "organization", None)
    if own is None or not getattr(reviewer, "organization_id", None):
        return False
    return organization.path.startswith(own.path) or own.path.startswith(organization.path)


def window_open(program, today: datetime.date) -> bool:
    return program.opens_on <= today <= program.closes_on


def criteria_frozen(program, today: datetime.date, has_applications: bool) -> bool:
    """Criteria change until the window opens; once applications exist they never do."""
    return has_applications or today >= program.opens_on


def years_after(day: datetime.date, years: int) -> datetime.date:
    """The same day `years` later (or earlier): a title's validity; 29 February becomes 28."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)
